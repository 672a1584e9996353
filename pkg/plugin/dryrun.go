package plugin

import (
	"fmt"

	"github.com/spf13/pflag"
)

// dryRunValue is --dry-run as kubectl takes it: none, client or server (bare --dry-run is client), and the
// true/false of the boolean flag it replaced. Every value but none and false writes nothing: kubectl irsa has no
// server-side dry run, so server plans exactly as client does.
type dryRunValue struct{ on *bool }

func (d dryRunValue) String() string {
	if d.on != nil && *d.on {
		return "client"
	}
	return "none"
}

func (d dryRunValue) Set(s string) error {
	switch s {
	case "client", "server", "true":
		*d.on = true
	case "none", "false":
		*d.on = false
	default:
		return fmt.Errorf(`invalid dry-run value (%s): must be "none", "server", or "client"`, s)
	}
	return nil
}

func (d dryRunValue) Type() string { return "string" }

// addDryRunFlag adds --dry-run[=none|client|server] setting on.
func addDryRunFlag(f *pflag.FlagSet, on *bool, usage string) {
	f.Var(dryRunValue{on: on}, "dry-run", usage+`: "client" (or bare --dry-run) and "server" write nothing, "none" writes`)
	f.Lookup("dry-run").NoOptDefVal = "client"
}
