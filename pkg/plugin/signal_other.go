//go:build !unix

package plugin

import "os/exec"

// signalNumber is 0 where exit statuses carry no signal.
func signalNumber(*exec.ExitError) int { return 0 }
