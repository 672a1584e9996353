package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/logclass"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/safetext"
)

// APIVersion is the apiVersion of every typed result kubectl irsa prints with -o json|yaml.
const APIVersion = "irsa.kubectl-irsa.io/v1alpha1"

// Doctor is what `kubectl irsa doctor` found (the body of its DoctorReport).
type Doctor struct {
	// Scope is what was diagnosed: a target, a namespace, all namespaces, or a logs file.
	Scope    string    `json:"scope"`
	Issuer   string    `json:"issuer,omitempty"`
	Checked  []string  `json:"checked"`
	Findings []Finding `json:"findings"`
	Notes    []string  `json:"notes,omitempty"`
	// CouldNotCheck lists the checks a failed read left undone: the diagnosis is incomplete.
	CouldNotCheck []string `json:"couldNotCheck,omitempty"`
}

// NewDoctor returns an empty report of scope.
func NewDoctor(scope string) Doctor {
	return Doctor{Scope: scope, Checked: []string{}, Findings: []Finding{}}
}

// LogScan is what classifying one log gave.
type LogScan struct {
	Findings []logclass.Finding
	// Notes say what was not classified whole (an empty log, over-long lines).
	Notes []string
	// CouldNotCheck says why the log could not be classified ("could not check app.log.gz: it is
	// gzip-compressed; ..."); "" when it could.
	CouldNotCheck string
}

// ClassifyLogs reads a whole log stream named name, merging alike lines (bounded evidence, counts kept), and
// says what of it could not be classified.
func ClassifyLogs(r io.Reader, name string, classifier *logclass.Classifier) (LogScan, error) {
	var col logclass.Collector
	st, err := classifier.ScanStats(r, col.Add)
	if err != nil {
		return LogScan{}, fmt.Errorf("reading %s: %w", name, err)
	}
	ls := LogScan{Findings: col.Findings()}
	switch {
	case st.Format != "":
		ls.CouldNotCheck = fmt.Sprintf("could not check %s: it is %s-compressed; decompress it first (e.g. %s)", name, st.Format, st.Decompress)
	case st.Binary:
		ls.CouldNotCheck = fmt.Sprintf("could not check %s: it is not a text log (NUL bytes in its first 64 KiB; UTF-16? convert it with iconv -f UTF-16 -t UTF-8)", name)
	case st.Bytes == 0:
		ls.Notes = append(ls.Notes, fmt.Sprintf("%s is empty: no log line was classified", name))
	}
	if st.LongLines > 0 {
		ls.Notes = append(ls.Notes, fmt.Sprintf("%d line(s) of %s longer than 1 MiB were classified in 1 MiB windows overlapping by 64 KiB", st.LongLines, name))
	}
	return ls, nil
}

// DoctorLogs classifies a log stream and nothing else: no Kubernetes or AWS call.
func DoctorLogs(r io.Reader, name string) (Doctor, error) {
	ls, err := ClassifyLogs(r, name, &logclass.Classifier{})
	if err != nil {
		return Doctor{}, err
	}
	rep := NewDoctor("logs " + name)
	rep.Checked = append(rep.Checked, "logs "+name)
	rep.Findings = append(rep.Findings, LogFindings(ls.Findings, "logs")...)
	rep.Notes = append(rep.Notes, ls.Notes...)
	if ls.CouldNotCheck != "" {
		rep.CouldNotCheck = append(rep.CouldNotCheck, ls.CouldNotCheck)
	}
	return rep, nil
}

// PrintDoctor prints findings grouped by check, each with its evidence and fix.
func PrintDoctor(w io.Writer, r *Doctor) {
	fmt.Fprintf(w, "Diagnosed %s (%d checked)\n", safetext.String(r.Scope), len(r.Checked))
	switch {
	case len(r.Findings) == 0 && len(r.CouldNotCheck) > 0:
		fmt.Fprintln(w, "\nno problem found in what could be checked; some checks could not run (below)")
	case len(r.Findings) == 0:
		fmt.Fprintln(w, "\nno IRSA or Pod Identity problem found")
	}
	for _, check := range []string{"logs", "serviceaccount", "pod", "iam", "cluster"} {
		first := true
		for _, f := range r.Findings {
			if f.Check != check {
				continue
			}
			if first {
				fmt.Fprintf(w, "\n%s\n", check)
				first = false
			}
			PrintFinding(w, f)
		}
	}
	PrintNotes(w, r.Notes, r.CouldNotCheck)
}

// PrintFinding writes one finding of doctor, audit or test: severity, id and target, then its summary,
// evidence and fix, indented.
func PrintFinding(w io.Writer, f Finding) {
	fmt.Fprintf(w, "  %-7s %s  %s\n", f.Severity, safetext.String(f.ID), safetext.String(f.Target))
	fmt.Fprintf(w, "          %s\n", safetext.String(f.Summary))
	for _, e := range f.Evidence {
		fmt.Fprintf(w, "          evidence: %s\n", safetext.String(strings.TrimSpace(e)))
	}
	if f.Fix != "" {
		fmt.Fprintf(w, "          fix: %s\n", safetext.String(f.Fix))
	}
}

// PrintNotes writes the notes, then the checks that could not run, after a blank line.
func PrintNotes(w io.Writer, notes, couldNotCheck []string) {
	if len(notes)+len(couldNotCheck) > 0 {
		fmt.Fprintln(w)
	}
	for _, n := range append(slices.Clone(notes), couldNotCheck...) {
		fmt.Fprintf(w, "note: %s\n", safetext.String(n))
	}
}

// WriteJSON writes v as indented JSON (four spaces, a final newline), escaped so that no text from a cluster,
// AWS or a log can reach a terminal raw (safetext.JSON: the values decode unchanged).
func WriteJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode the result: %w", err)
	}
	var indented bytes.Buffer
	if err := json.Indent(&indented, safetext.JSON(b), "", "    "); err != nil {
		return fmt.Errorf("encode the result as JSON: %w", err)
	}
	_, err = w.Write(append(indented.Bytes(), '\n'))
	return err
}
