package plugin

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/identityset"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/safetext"
)

// InvalidIdentityFileExitCode is the exit status of identity files that do not validate (apply, diff): kubectl
// diff's "error" status, before any Kubernetes or AWS call.
const InvalidIdentityFileExitCode = 2

// filenameFlag is the flag of commands that read IdentitySet files.
const filenameFlag = "filename"

// IdentityFiles is the -f flag of the commands that read IdentitySet files (apply, diff): files, directories
// (their *.yaml and *.yml) and - for stdin, repeatable.
type IdentityFiles struct {
	Paths []string
}

// AddFlag adds -f/--filename to a command's flags.
func (f *IdentityFiles) AddFlag(fs *pflag.FlagSet) {
	fs.StringArrayVarP(&f.Paths, filenameFlag, "f", nil, "IdentitySet file, directory of *.yaml/*.yml files, or - for stdin (repeatable)")
}

// Validate refuses a command without -f (a usage error: it comes before any client is made).
func (f *IdentityFiles) Validate() error {
	if len(f.Paths) == 0 {
		return fmt.Errorf("-f is required: name an IdentitySet file, a directory or - for stdin (kubectl irsa export writes one from a cluster)")
	}
	return nil
}

// Load reads and validates the files (identityset.Load, stdin from in). When they do not validate, it prints
// every problem to errOut, one line each (escaped: a file is hostile input), and returns an *ExitError with
// InvalidIdentityFileExitCode and a one-line summary; the caller stops before any Kubernetes or AWS call.
func (f *IdentityFiles) Load(in io.Reader, errOut io.Writer) ([]identityset.Document, error) {
	docs, err := identityset.Load(f.Paths, in)
	return docs, identityFileError(err, errOut)
}

// identityFileError prints the problems of *identityset.Problems and turns them into exit 2.
func identityFileError(err error, errOut io.Writer) error {
	var ps *identityset.Problems
	if !errors.As(err, &ps) {
		return err
	}
	for _, p := range *ps {
		fmt.Fprintf(errOut, "invalid: %s\n", safetext.Short(p.String(), maxLineRunes))
	}
	return &ExitError{Code: InvalidIdentityFileExitCode, Err: errors.New("the identity files do not validate (every problem is listed above); fix them and run again: nothing was read or changed")}
}
