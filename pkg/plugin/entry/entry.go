// Package entry is the plugin's executable, kubectl-irsa: it serves a logs-only `doctor --logs-file FILE
// [-o json]` itself and hands every other command line to the full CLI, CoreBinary, installed next to it.
//
// The split exists for speed: the full CLI initialises client-go's API scheme and the AWS SDK's service
// models before main runs (35-50 ms, more than grep takes for 200 MiB), which a log scan never uses. This
// package imports neither (TestEntryStaysSmall): only logclass and report, the packages the full CLI's
// logs-only doctor runs too, so both print the same bytes (TestEntryMatchesFullCLI).
package entry

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/report"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/safetext"
)

// CoreBinary is the full CLI's file name (with ".exe" on Windows), next to kubectl-irsa. It does not start
// with "kubectl-", so kubectl never lists it as a plugin of its own.
const CoreBinary = "irsa-core"

// Streams are the process's standard streams.
type Streams struct {
	In          io.Reader
	Out, ErrOut io.Writer
}

// Request is a logs-only doctor run, the one command line the entry serves itself.
type Request struct {
	// LogsFile is --logs-file: a path, or "-" for stdin.
	LogsFile string
	// JSON: -o json; else the human-readable report.
	JSON bool
}

// Parse recognises `doctor --logs-file FILE [-o json]`, in any order and in each spelling pflag accepts
// (--logs-file FILE, --logs-file=FILE, -o json, -ojson, -o=json, --output json, --output=json), each flag
// at most once. Anything else (another flag, a target, -o yaml, a value that looks like a flag) is not a
// Request: the full CLI parses it, with its own errors.
func Parse(args []string) (Request, bool) {
	if len(args) < 2 || args[0] != "doctor" {
		return Request{}, false
	}
	var req Request
	var haveFile, haveOutput bool
	for i := 1; i < len(args); i++ {
		name, value, inline := strings.Cut(args[i], "=")
		if !inline && strings.HasPrefix(name, "-o") && len(name) > 2 { // -ojson
			name, value, inline = "-o", name[2:], true
		}
		if !inline {
			if i+1 == len(args) {
				return Request{}, false
			}
			i++
			value = args[i]
		}
		switch name {
		case "--logs-file":
			if haveFile || value == "" || strings.HasPrefix(value, "-") && value != "-" {
				return Request{}, false
			}
			req.LogsFile, haveFile = value, true
		case "-o", "--output":
			if haveOutput || value != "json" {
				return Request{}, false
			}
			req.JSON, haveOutput = true, true
		default:
			return Request{}, false
		}
	}
	return req, haveFile
}

// doctorReport is the full CLI's DoctorReport as JSON: its kind, then report.Doctor.
type doctorReport struct {
	Kind       string `json:"kind,omitempty"`
	APIVersion string `json:"apiVersion,omitempty"`
	report.Doctor
}

// Run serves req as the full CLI's doctor would: the report on Out, an error line on ErrOut, and the exit
// status (0 nothing found, 1 an error finding, 2 incomplete or failed). served is false, with nothing
// printed, when the log cannot be opened: the full CLI then reports that.
func Run(req Request, s Streams) (code int, served bool) {
	logs, name := s.In, "stdin"
	if req.LogsFile != "-" {
		f, err := os.Open(req.LogsFile)
		if err != nil {
			return 0, false
		}
		defer f.Close()
		logs, name = f, safetext.Redact(req.LogsFile)
	}
	body, err := report.DoctorLogs(logs, name)
	if err != nil {
		return fail(s.ErrOut, "diagnosis could not run: "+err.Error()), true
	}
	if req.JSON {
		if err := report.WriteJSON(s.Out, doctorReport{Kind: "DoctorReport", APIVersion: report.APIVersion, Doctor: body}); err != nil {
			return fail(s.ErrOut, err.Error()), true
		}
	} else {
		report.PrintDoctor(s.Out, &body)
	}
	switch {
	case report.HasErrors(body.Findings):
		return 1, true
	case len(body.CouldNotCheck) > 0:
		return fail(s.ErrOut, fmt.Sprintf("incomplete: %d check(s) could not run", len(body.CouldNotCheck))), true
	}
	return 0, true
}

// fail prints msg as an error and returns exit status 2.
func fail(w io.Writer, msg string) int {
	PrintError(w, msg)
	return 2
}

// PrintError writes msg as both binaries write an error: "error: " and msg folded to one escaped line.
func PrintError(w io.Writer, msg string) {
	fmt.Fprintf(w, "error: %s\n", safetext.String(strings.Join(strings.Fields(msg), " ")))
}

// PrintStopping writes what both binaries say when a signal stops a run that has nothing to finish or undo.
func PrintStopping(w io.Writer, sig os.Signal) {
	fmt.Fprintf(w, "interrupted (%s): stopping\n", sig)
}

// SignalStatus is the exit status of a run a signal ended: 128 + its number, as shells report it.
func SignalStatus(sig os.Signal) int {
	if n, ok := sig.(syscall.Signal); ok {
		return 128 + int(n)
	}
	return 130
}

// Main runs kubectl-irsa with argv (os.Args): a Request here, anything else in the full CLI, which gets the
// same argv (so it names itself as kubectl ran it). It returns the exit status of a run it served or of the
// full CLI (on Windows); on Unix the full CLI replaces this process, keeping its pid, streams and signals.
func Main(argv []string, s Streams) int {
	args := argv[1:]
	if req, ok := Parse(args); ok {
		// A scan only reads: a signal stops it at once, with the full CLI's message and status (128+n).
		signals := make(chan os.Signal, 1)
		signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
		go func() {
			sig := <-signals
			PrintStopping(s.ErrOut, sig)
			os.Exit(SignalStatus(sig))
		}()
		if code, served := Run(req, s); served {
			return code
		}
		signal.Reset(os.Interrupt, syscall.SIGTERM)
	}
	core, err := corePath(argv[0])
	if err != nil {
		return fail(s.ErrOut, err.Error())
	}
	code, err := runCore(core, argv, s)
	if err != nil {
		return fail(s.ErrOut, fmt.Sprintf("cannot run %s: %v", core, err))
	}
	return code
}

// corePath is CoreBinary in the directory of this executable, symbolic links resolved (krew links
// ~/.krew/bin/kubectl-irsa to its store, where both files are); without /proc, the executable is found from
// argv0 as a shell would. A CoreBinary that is this executable (a copy or link of kubectl-irsa) is refused:
// running it would run this again, for ever.
func corePath(argv0 string) (string, error) {
	self, err := os.Executable()
	if err != nil {
		self, err = exec.LookPath(argv0)
	}
	if err == nil {
		self, err = filepath.EvalSymlinks(self)
	}
	if err != nil {
		return "", fmt.Errorf("cannot find this executable to run %s next to it: %w", CoreBinary, err)
	}
	name := CoreBinary + exeSuffix
	core := filepath.Join(filepath.Dir(self), name)
	coreInfo, err := os.Stat(core)
	switch {
	case err != nil:
		return "", fmt.Errorf("%s is missing next to %s: install the plugin's release whole (kubectl krew install irsa) or build both (make build)", name, self)
	case !coreInfo.Mode().IsRegular():
		return "", fmt.Errorf("%s next to %s is not a file: install the plugin's release whole (kubectl krew install irsa) or build both (make build)", name, self)
	}
	if selfInfo, err := os.Stat(self); err == nil && os.SameFile(selfInfo, coreInfo) || sameContent(self, core, coreInfo) {
		return "", fmt.Errorf("%s next to %s is kubectl-irsa itself, not the full CLI: install the plugin's release whole (kubectl krew install irsa) or build both (make build)", name, self)
	}
	return core, nil
}

// sameContent reports whether the files a and b (b described by bi) hold the same bytes: a copy of
// kubectl-irsa named irsa-core. Only files of equal size are read.
func sameContent(a, b string, bi os.FileInfo) bool {
	ai, err := os.Stat(a)
	if err != nil || ai.Size() != bi.Size() {
		return false
	}
	ab, err := os.ReadFile(a)
	if err != nil {
		return false
	}
	bb, err := os.ReadFile(b)
	return err == nil && bytes.Equal(ab, bb)
}
