package identityset

import (
	"fmt"
	"strings"
)

// Problem is one reason a file cannot be used: where (file, document, field path) and what.
type Problem struct {
	Source Source
	// Field is the path in the document, such as spec.roles[2].serviceAccounts[0] ("" for the whole file or document).
	Field string
	// Line is the line in the file (1-based), 0 when unknown.
	Line    int
	Message string
}

// wholeFile marks a Problem about a file rather than one of its documents (it cannot be read, it holds no YAML).
const wholeFile = -1

// String is `FILE: document N: FIELD: message (line L)`; documents are counted from 1, as a person counts them.
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.Source.File)
	if p.Source.Index != wholeFile {
		fmt.Fprintf(&b, ": document %d", p.Source.Index+1)
	}
	if p.Field != "" {
		b.WriteString(": " + p.Field)
	}
	b.WriteString(": " + p.Message)
	if p.Line > 0 {
		fmt.Fprintf(&b, " (line %d)", p.Line)
	}
	return b.String()
}

// Problems are every problem found in a set of files, in file, document and field order. Load returns them all at
// once, so that one run shows everything to fix.
type Problems []Problem

// Error is one line per problem.
func (ps *Problems) Error() string {
	lines := make([]string, len(*ps))
	for i, p := range *ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// add records a problem.
func (ps *Problems) add(src Source, field string, line int, format string, args ...any) {
	*ps = append(*ps, Problem{Source: src, Field: field, Line: line, Message: fmt.Sprintf(format, args...)})
}

// orNil is nil when there is no problem, so that `return ps.orNil()` is a plain nil error.
func (ps Problems) orNil() error {
	if len(ps) == 0 {
		return nil
	}
	return &ps
}
