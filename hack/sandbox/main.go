// Command sandbox starts the local sandbox (moto_server as AWS behind the sandbox's AWS proxy, which also serves
// the emulated EKS Pod Identity, add-on and EKS Auth APIs; a real etcd and kube-apiserver with an EKS-style issuer;
// the pod identity webhook registered with it), prints the export lines a shell needs, and stops everything on
// Ctrl-C or SIGTERM.
//
//	go run ./hack/sandbox            # etcd and kube-apiserver from ${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-irsa/bin
//	go run ./hack/sandbox -bin-dir DIR
//	go run ./hack/sandbox --clusters 2  # two EKS clusters, a kubeconfig context each (the first is current)
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/kubectl-irsa/kubectl-irsa/test/sandbox"
)

func main() {
	binDir := flag.String("bin-dir", sandbox.DefaultBinDir(), "directory holding etcd and kube-apiserver (from hack/control-plane.sh; default: $KUBECTL_IRSA_BIN_DIR, else ${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-irsa/bin)")
	clusters := flag.Int("clusters", 1, "how many EKS clusters to start, each with its own kube-apiserver, issuer and kubeconfig context")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Fprintln(os.Stderr, "starting sandbox: moto_server, AWS proxy, etcd, kube-apiserver, pod identity webhook ...")
	sb, err := sandbox.Start(ctx, sandbox.Options{BinDir: *binDir, Clusters: *clusters})
	if err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		os.Exit(1)
	}
	defer sb.Stop()
	for _, c := range sb.Clusters {
		fmt.Fprintf(os.Stderr, "sandbox up: EKS cluster %q, issuer %s, context %s\n", c.Name, c.Issuer, c.Context)
	}
	fmt.Fprintf(os.Stderr, "AWS endpoint %s: moto (%s) plus emulated EKS Pod Identity associations, add-ons, access entries and EKS Auth\n", sb.AWSEndpoint, sb.MotoEndpoint)
	for _, c := range sb.Clusters {
		fmt.Fprintf(os.Stderr, "pod identity webhook of %s: %s (MutatingWebhookConfiguration %s)\n", c.Name, c.Webhook.URL, sandbox.WebhookConfigurationName)
	}
	fmt.Fprintf(os.Stderr, "viewer kubeconfig (user irsa-viewer, no RBAC grant; a context per cluster): %s\n# paste into another shell:\n", sb.ViewerKubeconfig)
	for _, kv := range sb.Env() {
		fmt.Printf("export %s\n", kv)
	}
	fmt.Fprintln(os.Stderr, "# Ctrl-C stops the sandbox and removes", sb.Dir)
	<-ctx.Done()
	fmt.Fprintln(os.Stderr, "stopping sandbox ...")
}
