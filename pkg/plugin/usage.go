package plugin

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// UsageExitCode is the exit status of every usage error, for every command: an unknown command or flag, a
// wrong number of arguments, an invalid flag value, flags that do not go together.
const UsageExitCode = 2

// usageError is an error in the command line itself. Execute prints it with where to look (the command's
// --help) and exits UsageExitCode.
type usageError struct {
	err error
	// path is the command's path, such as "kubectl irsa link".
	path string
}

func (u *usageError) Error() string {
	return fmt.Sprintf("%s; see '%s --help'", u.err, u.path)
}

func (u *usageError) Unwrap() error { return u.err }

// asUsage marks err as a usage error of cmd (an error already marked, or a kubeconfig error, is kept).
func asUsage(cmd *cobra.Command, err error) error {
	var u *usageError
	if err == nil || errors.As(err, &u) || errors.Is(err, ErrKubeconfig) {
		return err
	}
	return &usageError{err: err, path: cmd.CommandPath()}
}

// installUsageErrors makes every usage error of the tree under root a usageError:
//   - flag errors (unknown flag, invalid value, missing value) through cobra's flag error func, which every
//     subcommand inherits;
//   - argument errors, by wrapping each command's Args; a command that only groups subcommands (root, role,
//     provider) gets one that refuses an unknown subcommand, and prints its help when run alone, since cobra
//     would otherwise print the help and exit 0 for `kubectl irsa role bogus`;
//   - required flags and flag groups, checked in a PreRunE (cobra's own check returns its errors unmarked).
//
// Each command marks the errors of its Complete and Validate itself (asUsage): they come only from the command
// line (its arguments, its flags and the files they name), and Validate decides every combination of flags that
// does not go together, before any client is built. An error of Run is never a usage error.
func installUsageErrors(root *cobra.Command) {
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error { return asUsage(cmd, err) })
	root.SetHelpCommand(newHelpCommand())
	var walk func(cmd *cobra.Command)
	walk = func(cmd *cobra.Command) {
		if !cmd.Runnable() && cmd.HasSubCommands() {
			cmd.Args = noSubcommand
			cmd.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
		}
		if cmd.Runnable() && cmd.PreRunE == nil && cmd.PreRun == nil {
			// cobra checks required flags and flag groups after PreRunE, and returns their errors unmarked.
			cmd.PreRunE = func(cmd *cobra.Command, _ []string) error {
				if err := cmd.ValidateRequiredFlags(); err != nil {
					return asUsage(cmd, err)
				}
				return asUsage(cmd, cmd.ValidateFlagGroups())
			}
		}
		if args := cmd.Args; args != nil {
			cmd.Args = func(cmd *cobra.Command, a []string) error { return asUsage(cmd, args(cmd, a)) }
		}
		for _, sub := range cmd.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// newHelpCommand is `kubectl irsa help [COMMAND]`: cobra's prints the root's usage and exits 0 for a topic it
// does not know; this one refuses it as a usage error.
func newHelpCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		Long:  "Help provides help for any command in the application.\nSimply type kubectl irsa help [path to command] for full details.",
		RunE: func(cmd *cobra.Command, args []string) error {
			target, rest, err := cmd.Root().Find(args)
			if err != nil || target == nil || len(rest) > 0 {
				return asUsage(cmd.Root(), fmt.Errorf("unknown help topic %q", strings.Join(args, " ")))
			}
			target.InitDefaultHelpFlag()
			return target.Help()
		},
		ValidArgsFunction: func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			target, _, err := cmd.Root().Find(args)
			if err != nil || target == nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var out []cobra.Completion
			for _, sub := range target.Commands() {
				if sub.IsAvailableCommand() && strings.HasPrefix(sub.Name(), toComplete) {
					out = append(out, cobra.CompletionWithDesc(sub.Name(), sub.Short))
				}
			}
			return out, cobra.ShellCompDirectiveNoFileComp
		},
	}
}

// noSubcommand refuses an argument to a command that only groups subcommands, naming the nearest ones.
func noSubcommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2 // cobra's default, which SuggestionsFor does not apply itself
	}
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += fmt.Sprintf(" (did you mean %s?)", strings.Join(s, " or "))
	}
	return errors.New(msg)
}
