//go:build unix

package plugin

import (
	"os/exec"
	"syscall"
)

// signalNumber is the number of the signal that ended the process (0 when it exited).
func signalNumber(exit *exec.ExitError) int {
	if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return int(ws.Signal())
	}
	return 0
}
