// Package e2e holds the integration tests: they start the sandbox (moto_server, etcd, kube-apiserver) once,
// build the plugin, and drive it through the real kubectl's plugin discovery and through the packages.
package e2e

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubectl-irsa/kubectl-irsa/test/sandbox"
)

var (
	sb      *sandbox.Sandbox
	counter *sandbox.CallCounter
	// pluginDir holds the built kubectl-irsa, put first on PATH for kubectl's plugin discovery.
	pluginDir string
	kube      kubernetes.Interface
	iamClient *iam.Client
	stsClient *sts.Client
)

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() || os.Getenv("KUBECTL_IRSA_SKIP_E2E") == "1" {
		fmt.Println("skipping integration tests (-short)")
		os.Exit(0)
	}
	os.Exit(run(m))
}

func run(m *testing.M) int {
	binDir := sandbox.DefaultBinDir()
	ctx := context.Background()
	interrupted := make(chan os.Signal, 1)
	signal.Notify(interrupted, os.Interrupt, syscall.SIGTERM)

	var err error
	pluginDir, err = os.MkdirTemp("", "kubectl-irsa-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(pluginDir)
	// The plugin is two files, as krew installs it: kubectl-irsa, which kubectl runs, and irsa-core, the full CLI
	// it runs for every command but a logs-only doctor.
	for _, bin := range []string{"kubectl-irsa", "irsa-core"} {
		build := exec.Command("go", "build", "-o", filepath.Join(pluginDir, bin),
			"-ldflags", "-X github.com/kubectl-irsa/kubectl-irsa/pkg/version.Version=v0.0.0-e2e -X github.com/kubectl-irsa/kubectl-irsa/pkg/version.Commit=e2e0000",
			"github.com/kubectl-irsa/kubectl-irsa/cmd/"+bin)
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "build", bin+":", err)
			return 1
		}
	}

	sb, err = sandbox.Start(ctx, sandbox.Options{BinDir: binDir})
	if err != nil {
		fmt.Fprintln(os.Stderr, "sandbox:", err)
		return 1
	}
	defer sb.Stop()
	// Stop the sandbox on Ctrl-C too: the deferred Stop does not run when the process is interrupted.
	go func() {
		<-interrupted
		sb.Stop()
		os.RemoveAll(pluginDir)
		os.Exit(130)
	}()
	// The sandbox's AWS proxy: counts calls, serves the emulated EKS APIs, has the one-item-page and fault modes.
	counter = sb.AWS

	restConfig, err := clientcmd.BuildConfigFromFlags("", sb.Kubeconfig)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	kube = kubernetes.NewForConfigOrDie(restConfig)
	// Test setup talks to moto directly: its calls are not counted.
	awsCfg := aws.Config{
		Region:       sandbox.Region,
		BaseEndpoint: aws.String(sb.MotoEndpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(sandbox.AccessKeyID, sandbox.SecretAccessKey, ""),
	}
	iamClient = iam.NewFromConfig(awsCfg)
	stsClient = sts.NewFromConfig(awsCfg)
	return m.Run()
}

// result is one run of the plugin.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// env returns the environment of a plugin run: the sandbox's, with AWS calls going through the counter, plus
// overrides such as "KUBECONFIG=...".
func env(overrides ...string) []string {
	base := map[string]string{
		"PATH": pluginDir + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME": os.Getenv("HOME"),
	}
	for _, kv := range sb.Env() {
		k, v, _ := strings.Cut(kv, "=")
		base[k] = v
	}
	base["AWS_ENDPOINT_URL"] = counter.URL
	for _, kv := range overrides {
		k, v, _ := strings.Cut(kv, "=")
		base[k] = v
	}
	var out []string
	for k, v := range base {
		out = append(out, k+"="+v)
	}
	return out
}

// kubectl runs the real kubectl with args (kubectl irsa ... goes through plugin discovery).
func kubectl(t *testing.T, environ []string, args ...string) result {
	t.Helper()
	cmd := exec.Command("kubectl", args...)
	cmd.Env = environ
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	if exit, ok := err.(*exec.ExitError); ok {
		r.code = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("kubectl %v: %v", args, err)
	}
	return r
}

// irsa runs `kubectl irsa ARGS` in the sandbox's environment.
func irsaCmd(t *testing.T, args ...string) result {
	t.Helper()
	return kubectl(t, env(), append([]string{"irsa"}, args...)...)
}

// mustSucceed fails the test when r did not exit 0.
func mustSucceed(t *testing.T, r result) result {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("command failed: %s", r)
	}
	return r
}
