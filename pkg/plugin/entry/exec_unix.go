//go:build unix

package entry

import (
	"os"
	"syscall"
)

const exeSuffix = ""

// runCore replaces this process with the full CLI, with argv: it returns only when the exec failed.
func runCore(core string, argv []string, _ Streams) (int, error) {
	return 0, syscall.Exec(core, argv, os.Environ())
}
