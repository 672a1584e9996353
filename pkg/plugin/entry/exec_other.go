//go:build !unix

package entry

import (
	"errors"
	"os"
	"os/exec"
	"os/signal"
)

const exeSuffix = ".exe"

// runCore runs the full CLI as a child, with argv, with this process's streams and returns its exit status. Ctrl-C
// reaches both processes (one console): the child handles it, this one waits for the child's status.
func runCore(core string, argv []string, s Streams) (int, error) {
	signal.Ignore(os.Interrupt)
	cmd := exec.Command(core, argv[1:]...)
	cmd.Args[0] = argv[0]
	cmd.Stdin, cmd.Stdout, cmd.Stderr = s.In, s.Out, s.ErrOut
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), nil
	}
	return 0, err
}
