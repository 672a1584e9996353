//go:build !(linux || darwin || freebsd)

package logclass

import "io"

// mapFile: files are read as streams on this platform.
func mapFile(io.Reader) (*mapping, bool) { return nil, false }
