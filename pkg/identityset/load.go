package identityset

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// StdinName is how problems name the standard input ("-" among the paths).
const StdinName = "<stdin>"

// MaxFileSize bounds what is read of one file (or of the standard input): a device or a huge file must not
// exhaust memory, and no identity file needs this much.
const MaxFileSize = 8 << 20

// MaxProblems is how many problems Load returns at most (a file of ten thousand bad lines needs no ten thousand
// lines of output); a last problem says how many more there are.
const MaxProblems = 100

// Load reads IdentitySet documents from files, directories (their *.yaml and *.yml files, sorted, not recursive)
// and "-" (stdin), several documents per file separated by `---`, empty documents skipped, and validates them
// strictly and together (Validate). Every problem of every file comes back at once as *Problems; the documents
// are returned only when there is none. Load reads the given files and stdin and nothing else.
func Load(paths []string, stdin io.Reader) ([]Document, error) {
	var ps Problems
	if len(paths) == 0 {
		ps.add(Source{File: "-f", Index: wholeFile}, "", 0, "no file given: name an identity file, a directory or - for stdin")
		return nil, ps.orNil()
	}
	var docs []Document
	files := expand(paths, &ps)
	for _, f := range files {
		data, err := readFile(f, stdin)
		name := f
		if f == "-" {
			name = StdinName
		}
		if err != nil {
			ps.add(Source{File: name, Index: wholeFile}, "", 0, "%v", err)
			continue
		}
		docs = append(docs, Parse(name, data, &ps)...)
	}
	ps = append(ps, notUnder(validate(docs), ps)...)
	if len(docs) == 0 && len(ps) == 0 {
		// As kubectl apply: no object is an error, so a generator that failed and wrote nothing does not pass a
		// drift check as "in sync" (nor prune a whole set).
		ps.add(Source{File: strings.Join(paths, ", "), Index: wholeFile}, "", 0, "no IdentitySet documents: name a file or directory that holds at least one")
	}
	if len(ps) > 0 {
		sortByDocument(ps, files)
		if len(ps) > MaxProblems {
			more := len(ps) - MaxProblems
			ps = append(ps[:MaxProblems], Problem{Source: Source{File: "...", Index: wholeFile}, Message: fmt.Sprintf("%d more problems not shown: fix these and run again", more)})
		}
		return nil, ps.orNil()
	}
	return docs, nil
}

// expand replaces each directory by its *.yaml and *.yml files, sorted.
func expand(paths []string, ps *Problems) []string {
	var out []string
	for _, p := range paths {
		if p == "-" {
			out = append(out, p)
			continue
		}
		fi, err := os.Stat(p)
		if err != nil || !fi.IsDir() {
			out = append(out, p) // readFile reports what is wrong with it
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			ps.add(Source{File: p, Index: wholeFile}, "", 0, "cannot read the directory: %v", err)
			continue
		}
		var files []string
		for _, e := range entries {
			ext := strings.ToLower(filepath.Ext(e.Name()))
			// Regular files only (a symlink to one too): a FIFO or device named *.yaml would block the read.
			if ext == ".yaml" || ext == ".yml" {
				if fi, err := os.Stat(filepath.Join(p, e.Name())); err == nil && !fi.Mode().IsRegular() {
					ps.add(Source{File: filepath.Join(p, e.Name()), Index: wholeFile}, "", 0, "not a regular file: left unread")
					continue
				}
			}
			if !e.IsDir() && (ext == ".yaml" || ext == ".yml") {
				files = append(files, filepath.Join(p, e.Name()))
			}
		}
		if len(files) == 0 {
			ps.add(Source{File: p, Index: wholeFile}, "", 0, "the directory holds no *.yaml or *.yml file")
		}
		slices.Sort(files)
		out = append(out, files...)
	}
	return out
}

// readFile reads a file, or stdin for "-", up to MaxFileSize.
func readFile(name string, stdin io.Reader) ([]byte, error) {
	var r io.Reader
	if name == "-" {
		if stdin == nil {
			return nil, errors.New("no standard input to read")
		}
		r = stdin
	} else {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("cannot read the file: %w", unwrapPath(err))
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read: %w", unwrapPath(err))
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("larger than %d MiB: an identity file is not this big", MaxFileSize>>20)
	}
	return data, nil
}

// unwrapPath drops the *PathError's repetition of the file name, which the problem already shows.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Parse splits data into YAML documents and decodes each strictly (unknown fields, wrong types, missing required
// fields and duplicate keys are problems, recorded in ps with their field path and line). Empty documents are
// skipped but counted, so that "document N" is the Nth of the file. Documents with structural problems are still
// returned (without the offending fields) so that Validate can report the rest; Load returns none of them then.
func Parse(file string, data []byte, ps *Problems) []Document {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []Document
	for i := 0; ; i++ {
		src := Source{File: file, Index: i}
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			ps.add(src, "", 0, "not valid YAML: %s", strings.TrimPrefix(err.Error(), "yaml: "))
			break // the parser cannot resume after a syntax error
		}
		root := &n
		if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
			root = root.Content[0]
		}
		if root.Kind == yaml.DocumentNode || root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
			continue // an empty document
		}
		w := walker{src: src, ps: ps, budget: maxNodes}
		clean, ok := w.value(root, setType, "")
		if !ok {
			continue // not an object: nothing more to say about it
		}
		var set IdentitySet
		b, err := json.Marshal(clean)
		if err == nil {
			err = json.Unmarshal(b, &set) // the walker kept only fields of the right type
		}
		if err != nil {
			ps.add(src, "", 0, "cannot be decoded: %v", err)
			continue
		}
		docs = append(docs, Document{Source: src, Set: set})
	}
	return docs
}

// notUnder drops the problems of validation about a field that decoding already reported (or a field under it):
// `name: 123` is one problem, not also "set name or arn".
func notUnder(validation, decoding Problems) Problems {
	var out Problems
	for _, v := range validation {
		if !slices.ContainsFunc(decoding, func(d Problem) bool { return d.Source == v.Source && under(v.Field, d.Field) }) {
			out = append(out, v)
		}
	}
	return out
}

// under reports whether field is parent or inside it (spec.roles[0].name is under spec.roles[0]).
func under(field, parent string) bool {
	if parent == "" || field == parent {
		return true
	}
	rest, ok := strings.CutPrefix(field, parent)
	return ok && (rest[0] == '.' || rest[0] == '[')
}

// sortByDocument orders problems by file (in the order read) and document, keeping each document's problems in the
// order found: decoding's, then validation's.
func sortByDocument(ps Problems, files []string) {
	rank := func(p Problem) int {
		for i, f := range files {
			if f == p.Source.File || f == "-" && p.Source.File == StdinName {
				return i
			}
		}
		return -1 // a path that is not a file: reported first
	}
	slices.SortStableFunc(ps, func(a, b Problem) int {
		if c := rank(a) - rank(b); c != 0 {
			return c
		}
		return a.Source.Index - b.Source.Index
	})
}
