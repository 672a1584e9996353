package plugin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/doctor"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/inspect"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/report"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/safetext"
)

// DoctorOptions diagnoses IRSA failures.
type DoctorOptions struct {
	*Globals
	output        *outputFlags
	allNamespaces bool
	logsFile      string
	logsFileSet   bool // --logs-file given, maybe empty
	tail          int64
	suggestPolicy bool

	target       *inspect.Target
	namespace    string
	logsOnly     bool
	namespaceSet bool
}

// NewCmdDoctor builds `kubectl irsa doctor`.
func NewCmdDoctor(g *Globals) *cobra.Command {
	o := &DoctorOptions{Globals: g, output: newOutputFlags()}
	cmd := &cobra.Command{
		Use:   "doctor [SA | pod/NAME | deployment/NAME | statefulset/NAME | daemonset/NAME | job/NAME | cronjob/NAME]",
		Short: "Explain why a pod lacks its role's credentials (IRSA or Pod Identity: node-role fallback, trust, injection, ...)",
		Long: `Doctor reads logs and live state and says what is wrong with a pod's IAM role, with the command that fixes it.

With a target it checks the ServiceAccount, its pods, the IAM role and OIDC provider, and classifies the
containers' logs (current and previous), or the --logs-file instead. Without a target it checks every annotated
ServiceAccount of the namespace (-n) or of all namespaces (-A). With only --logs-file it classifies the log and
makes no Kubernetes or AWS call.

Exit status: 0 no error found, 1 an error finding, 2 the diagnosis could not complete: a usage error, AWS or
the cluster unreachable, a read that failed (the report's notes say which check).`,
		Example: `  # The seed's failure: a Job's log says the node role was denied eks:ListClusters
  kubectl logs job/eks-iam-test -n irsa-sample-ns | kubectl irsa doctor irsa-test -n irsa-sample-ns --logs-file -

  kubectl irsa doctor deployment/web -n shop
  kubectl irsa doctor -A -o json
  kubectl irsa doctor --logs-file app.log

  # Write the policy that allows what the log shows denied, then apply it
  kubectl irsa doctor --logs-file app.log --suggest-policy > policy.json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.namespaceSet = cmd.Flags().Changed("namespace")
			o.logsFileSet = cmd.Flags().Changed("logs-file")
			if err := o.Complete(args); err != nil {
				return asUsage(cmd, err)
			}
			if err := o.Validate(args); err != nil {
				return asUsage(cmd, err)
			}
			return o.Run(cmd.Context())
		},
	}
	cmd.Flags().BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "check every annotated ServiceAccount in all namespaces")
	cmd.Flags().StringVar(&o.logsFile, "logs-file", "", "classify this log file (- for stdin) instead of reading the containers' logs")
	cmd.Flags().BoolVar(&o.suggestPolicy, "suggest-policy", false, "print the least-privilege policy that allows the calls the role was denied in the logs (a file for link --policy-file), and the link command")
	cmd.Flags().Int64Var(&o.tail, "tail", 500, "lines of each container's current and previous log to read")
	o.Flags.addRoleProfileFlag(cmd.Flags())
	o.output.addFlags(cmd)
	return cmd
}

// Complete resolves the target and scope. A logs-only run reads no kubeconfig at all.
func (o *DoctorOptions) Complete(args []string) error {
	if o.logsFileSet && o.logsFile == "" {
		return errors.New("--logs-file needs a file name (- for stdin)")
	}
	o.logsOnly = len(args) == 0 && o.logsFile != "" && !o.allNamespaces && !o.namespaceSet
	if o.logsOnly {
		return nil
	}
	if !o.allNamespaces {
		ns, err := o.Factory.Namespace()
		if err != nil {
			return err
		}
		o.namespace = ns
	}
	if len(args) == 1 {
		t, err := inspect.ParseTarget(args[0], o.namespace)
		if err != nil {
			return err
		}
		o.target = &t
	}
	return nil
}

// Validate checks the output format and that the target, -A and --logs-file go together.
func (o *DoctorOptions) Validate(args []string) error {
	if err := o.output.validate(); err != nil {
		return err
	}
	if len(args) == 1 && o.allNamespaces {
		return errors.New("a target and -A do not go together: drop one")
	}
	if !o.logsOnly && o.logsFile != "" && len(args) == 0 {
		return errors.New("--logs-file goes with a target or alone, not with a namespace scan")
	}
	return o.validateSuggest(args)
}

// Run diagnoses and prints the report; the exit status says whether an error was found, or whether the
// diagnosis could not complete.
func (o *DoctorOptions) Run(ctx context.Context) error {
	if o.suggestPolicy {
		return o.runSuggest(ctx)
	}
	report, err := o.diagnose(ctx)
	if err != nil {
		return &ExitError{Code: 2, Err: fmt.Errorf("diagnosis could not run: %w", err)}
	}
	if !o.output.human() {
		if err := o.output.printObject(report, o.Out); err != nil {
			return &ExitError{Code: 2, Err: err}
		}
	} else {
		printReport(o.Out, report)
	}
	return exitStatus(doctor.HasErrors(report.Findings), report.CouldNotCheck)
}

func (o *DoctorOptions) diagnose(ctx context.Context) (*inspect.DoctorReport, error) {
	if o.logsOnly {
		stopAtOnce(ctx) // as the plugin's entry stops the same run (pkg/plugin/entry)
	}
	logs, name, closeLogs, err := o.openLogs()
	if err != nil {
		return nil, err
	}
	defer closeLogs()
	if o.logsOnly {
		return inspect.DoctorLogsOnly(logs, name)
	}
	in, err := o.inspector(ctx, false)
	if err != nil {
		return nil, err
	}
	if o.target != nil {
		return in.DoctorTarget(ctx, *o.target, logs, name, o.tail)
	}
	return in.DoctorScope(ctx, o.namespace)
}

// openLogs opens --logs-file (stdin for -; nil without it) and names it for the report: the name goes into
// the report (scope, checked, notes) of every output format, so it is masked like any value.
func (o *DoctorOptions) openLogs() (logs io.Reader, name string, closeLogs func(), err error) {
	name, closeLogs = safetext.Redact(o.logsFile), func() {}
	switch {
	case o.logsFile == "":
		return nil, name, closeLogs, nil
	case name == "-":
		return o.In, "stdin", closeLogs, nil
	}
	f, err := os.Open(o.logsFile)
	if err != nil {
		return nil, "", nil, fmt.Errorf("cannot read --logs-file: %w", err)
	}
	return f, name, func() { _ = f.Close() }, nil
}

// printReport prints findings grouped by check, each with its evidence and fix (report.PrintDoctor, which
// the plugin's entry also uses for a logs-only run).
func printReport(w io.Writer, r *inspect.DoctorReport) { report.PrintDoctor(w, &r.Doctor) }
