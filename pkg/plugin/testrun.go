package plugin

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/doctor"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/inspect"
)

// passed is the verdict test prints and exits with: a pass with an error finding is not a pass.
func passed(r *inspect.TestResult) bool {
	return r.Verdict == inspect.VerdictPass && !doctor.HasErrors(r.Findings)
}

// failReason is the reason of a failed test; for a pass with an error finding, that finding.
func failReason(r *inspect.TestResult) string {
	if r.Reason != "" || r.Verdict != inspect.VerdictPass {
		return r.Reason
	}
	for _, f := range r.Findings {
		if f.Severity == doctor.Error {
			return f.ID + ": " + f.Summary
		}
	}
	return "an error finding was reported"
}

// forwardSignals are passed on to the command of `test -- COMMAND`, which holds the role's credentials and must
// not outlive the plugin.
var forwardSignals = []os.Signal{os.Interrupt, syscall.SIGTERM}

// killGrace is how long a child that ignores a forwarded signal is waited for before it is killed.
const killGrace = 10 * time.Second

// runCommand runs the command with the role's temporary credentials, as the pod's SDK would have them.
func (o *TestOptions) runCommand(ctx context.Context, res *inspect.TestResult, region string) error {
	creds := res.Credentials()
	var env []string
	for _, kv := range os.Environ() {
		key, _, _ := strings.Cut(kv, "=")
		switch key {
		case "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_PROFILE",
			"AWS_DEFAULT_PROFILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_REGION", "AWS_DEFAULT_REGION",
			"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE":
			continue
		}
		env = append(env, kv)
	}
	env = append(env,
		"AWS_ACCESS_KEY_ID="+creds.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY="+creds.SecretAccessKey,
		"AWS_SESSION_TOKEN="+creds.SessionToken,
		"AWS_REGION="+region, "AWS_DEFAULT_REGION="+region,
	)
	cmd := exec.Command(o.command[0], o.command[1:]...)
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = o.In, o.Out, o.ErrOut
	return runForwarding(ctx, cmd)
}

// runForwarding starts cmd and waits for it, passing SIGINT and SIGTERM the plugin receives on to it (the child
// decides how to stop; it is killed only if it is still running killGrace after the context ends). The
// child's exit status becomes the plugin's.
func runForwarding(ctx context.Context, cmd *exec.Cmd) error {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, forwardSignals...)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("cannot run %s: %w", cmd.Path, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	ctxDone := ctx.Done()
	var kill <-chan time.Time
	for {
		select {
		case sig := <-sigs:
			_ = cmd.Process.Signal(sig)
		case <-ctxDone:
			ctxDone = nil
			_ = cmd.Process.Signal(os.Interrupt)
			kill = time.After(killGrace)
		case <-kill:
			_ = cmd.Process.Kill()
		case err := <-done:
			var exit *exec.ExitError
			switch {
			case errors.As(err, &exit):
				code := exit.ExitCode()
				if code < 0 { // killed by a signal
					code = 128 + signalNumber(exit)
				}
				return &ExitError{Code: code}
			case err != nil:
				return fmt.Errorf("running %s: %w", cmd.Path, err)
			}
			return nil
		}
	}
}
