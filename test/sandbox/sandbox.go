// Package sandbox runs a local stand-in for an EKS cluster and its AWS account: moto_server as the AWS API
// (IAM, STS, EKS), and a real etcd and kube-apiserver whose service-account issuer is the EKS-style issuer that
// moto's EKS cluster record reports, as on a real EKS cluster. In front of moto, an AWS proxy counts calls,
// serves the EKS APIs moto lacks (Pod Identity associations, add-ons, access entries, EKS Auth) and has test modes
// (one-item pages, injected errors); a mutating admission webhook registered with kube-apiserver injects what the
// EKS pod identity webhook injects. Everything listens on loopback, on free ports.
package sandbox

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Fixed identity of the sandbox's AWS account and EKS cluster.
const (
	Region      = "us-east-1"
	Account     = "123456789012" // moto's default account
	ClusterName = "irsa-sandbox"
	// AccessKeyID and SecretAccessKey are dummy credentials moto accepts; they open nothing real.
	AccessKeyID     = "AKIASANDBOXEXAMPLE00"
	SecretAccessKey = "sandbox-secret-key-not-real"
	dirPrefix       = "kubectl-irsa-sandbox-"
)

// Options configure Start.
type Options struct {
	// BinDir holds the etcd and kube-apiserver binaries (see hack/control-plane.sh); "" is DefaultBinDir().
	BinDir string
	// Log receives the servers' output; nil discards it (it is also kept in files under Dir).
	Log io.Writer
	// MotoAuth switches on moto's IAM-like access control once the sandbox is set up: requests must be signed
	// with a key moto issued (Env gives the admin's) and are allowed by the caller's identity policies, so a
	// role's call the role's policies do not allow is answered AccessDenied, as by AWS. Not every service's
	// calls are evaluated by moto (SQS and S3 are; see motoauth.go).
	MotoAuth bool
	// TrustSizeQuotas sets the trust policy quota per account (see Sandbox.SetTrustSizeQuota); an account not
	// listed has IAM's default, DefaultTrustSizeQuota.
	TrustSizeQuotas map[string]int
	// Clusters is how many EKS clusters to start (0 or 1: one). Each has its EKS record in moto (DescribeCluster
	// reports its issuer), its own kube-apiserver (one etcd, a prefix each) with that issuer and its own
	// service-account signing key, its pod identity webhook, and a context in Kubeconfig; the first is the current
	// context and the Sandbox's own fields describe it.
	Clusters int
}

// Cluster is one of the sandbox's EKS clusters.
type Cluster struct {
	// Name is the EKS cluster name: ClusterName for the first, ClusterName-2, -3 ... for the others.
	Name string
	// Context is its kubeconfig context (and cluster) name: arn:aws:eks:REGION:ACCOUNT:cluster/NAME.
	Context string
	// Issuer is its OIDC issuer, as EKS DescribeCluster reports it and its kube-apiserver signs tokens.
	Issuer string
	// APIServer is its kube-apiserver URL.
	APIServer string
	// Webhook is the pod identity webhook registered with its kube-apiserver.
	Webhook *Webhook
}

// Sandbox is a running sandbox. Stop ends every process it started and removes Dir.
type Sandbox struct {
	// Dir is the sandbox's temp dir: keys, certificates, etcd data, kubeconfig and server logs.
	Dir string
	// Kubeconfig is the path of a kubeconfig whose context is named as `aws eks update-kubeconfig` names it.
	Kubeconfig string
	// Context is the kubeconfig context (and cluster) name: arn:aws:eks:REGION:ACCOUNT:cluster/NAME.
	Context string
	// AWSEndpoint is the sandbox's AWS proxy (AWS below), for AWS_ENDPOINT_URL: moto plus the emulated APIs.
	AWSEndpoint string
	// MotoEndpoint is moto_server's own URL (no emulated APIs, nothing counted).
	MotoEndpoint string
	// AWS is the proxy at AWSEndpoint: call counts (Calls, Writes, Reset), SetOneItemPages, InjectFault.
	AWS *CallCounter
	// EKS is the emulator of the EKS APIs moto lacks; its association store is the webhook's.
	EKS *EKSEmulator
	// Webhook is the pod identity webhook registered with kube-apiserver.
	Webhook *Webhook
	// Issuer is the cluster's OIDC issuer, as EKS DescribeCluster reports it and kube-apiserver serves it.
	Issuer string
	// APIServer is the kube-apiserver URL.
	APIServer string
	// ViewerKubeconfig is a kubeconfig for user "irsa-viewer", who has no RBAC grant until a test gives one.
	ViewerKubeconfig string
	// Kubelet serves the container logs of pods on the nodes AddNode registers.
	Kubelet *Kubelet
	// Clusters are every cluster started (Options.Clusters), the first being the one the fields above describe.
	Clusters []Cluster

	// accessKeyID and secretAccessKey sign the sandbox's clients (Env): the dummy keys, or the admin's key
	// under Options.MotoAuth.
	accessKeyID, secretAccessKey string

	procs    []*process
	accounts *accounts
	tokenKey *rsa.PrivateKey
}

type process struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	// grace is how long Stop waits after SIGTERM before SIGKILL.
	grace time.Duration
}

// Env returns the environment a shell or a child process needs to use the sandbox.
func (s *Sandbox) Env() []string {
	return []string{
		"KUBECONFIG=" + s.Kubeconfig,
		"AWS_ENDPOINT_URL=" + s.AWSEndpoint,
		"AWS_ACCESS_KEY_ID=" + s.accessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + s.secretAccessKey,
		"AWS_REGION=" + Region,
		"AWS_DEFAULT_REGION=" + Region,
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

// Start brings the sandbox up. On error, whatever was started is stopped again.
func Start(ctx context.Context, opts Options) (_ *Sandbox, err error) {
	if opts.BinDir == "" {
		opts.BinDir = DefaultBinDir()
	}
	for _, bin := range []string{"etcd", "kube-apiserver"} {
		if _, err := os.Stat(filepath.Join(opts.BinDir, bin)); err != nil {
			return nil, fmt.Errorf("%s not found in %q: run `make control-plane` (hack/control-plane.sh) first", bin, opts.BinDir)
		}
	}
	if _, err := exec.LookPath("moto_server"); err != nil {
		return nil, errors.New("moto_server not found on PATH: install Python moto[server] 5.x")
	}
	removeStaleDirs()
	dir, err := os.MkdirTemp("", dirPrefix)
	if err != nil {
		return nil, err
	}
	s := &Sandbox{Dir: dir, accessKeyID: AccessKeyID, secretAccessKey: SecretAccessKey}
	defer func() {
		if err != nil {
			s.Stop()
		}
	}()
	if err := os.WriteFile(filepath.Join(dir, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
		return nil, err
	}
	logw := opts.Log
	if logw == nil {
		logw = io.Discard
	}

	// AWS first: the EKS cluster record decides the issuer kube-apiserver must use.
	motoPort, err := freePort()
	if err != nil {
		return nil, err
	}
	s.MotoEndpoint = "http://127.0.0.1:" + strconv.Itoa(motoPort)
	if err := s.start("moto", logw, 5*time.Second, "moto_server", "-H", "127.0.0.1", "-p", strconv.Itoa(motoPort)); err != nil {
		return nil, err
	}
	if err := waitHTTP(ctx, http.DefaultClient, s.MotoEndpoint+"/moto-api/", 30*time.Second); err != nil {
		return nil, fmt.Errorf("moto_server did not start: %w", err)
	}
	if s.Issuer, err = s.createEKSCluster(ctx); err != nil {
		return nil, err
	}
	if err := s.createLockBucket(ctx); err != nil {
		return nil, err
	}
	s.accounts = newAccounts(s.MotoEndpoint)
	s.EKS = newEKSEmulator(s.MotoEndpoint, s.accounts)
	s.EKS.issuer = s.Issuer
	if s.AWS, err = newProxy(s.MotoEndpoint, s.EKS); err != nil {
		return nil, err
	}
	s.AWSEndpoint = s.AWS.URL
	for account, n := range opts.TrustSizeQuotas {
		s.AWS.SetTrustSizeQuota(account, n)
	}

	pki, err := writePKI(dir)
	if err != nil {
		return nil, err
	}
	if s.tokenKey, err = loadTokenKey(pki.saPrivate); err != nil {
		return nil, err
	}
	s.EKS.tokenKey = &s.tokenKey.PublicKey
	adminToken, err := randomToken()
	if err != nil {
		return nil, err
	}
	tokenFile := filepath.Join(dir, "tokens.csv")
	viewerToken, err := randomToken()
	if err != nil {
		return nil, err
	}
	tokens := adminToken + ",admin,admin,system:masters\n" + viewerToken + ",irsa-viewer,irsa-viewer\n"
	if err := os.WriteFile(tokenFile, []byte(tokens), 0o600); err != nil {
		return nil, err
	}

	etcdPort, err := freePort()
	if err != nil {
		return nil, err
	}
	peerPort, err := freePort()
	if err != nil {
		return nil, err
	}
	etcdURL := "http://127.0.0.1:" + strconv.Itoa(etcdPort)
	peerURL := "http://127.0.0.1:" + strconv.Itoa(peerPort)
	if err := s.start("etcd", logw, 10*time.Second, filepath.Join(opts.BinDir, "etcd"),
		"--name=sandbox",
		"--data-dir="+filepath.Join(dir, "etcd"),
		"--listen-client-urls="+etcdURL, "--advertise-client-urls="+etcdURL,
		"--listen-peer-urls="+peerURL, "--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=sandbox="+peerURL,
		"--unsafe-no-fsync", "--log-level=warn",
	); err != nil {
		return nil, err
	}
	if err := waitHTTP(ctx, http.DefaultClient, etcdURL+"/health", 30*time.Second); err != nil {
		return nil, fmt.Errorf("etcd did not start: %w", err)
	}

	s.Kubelet = startKubelet()
	apiPort, err := freePort()
	if err != nil {
		return nil, err
	}
	s.APIServer = "https://127.0.0.1:" + strconv.Itoa(apiPort)
	if err := s.start("kube-apiserver", logw, 10*time.Second, filepath.Join(opts.BinDir, "kube-apiserver"),
		apiServerArgs(etcdURL, "", apiPort, dir, pki, s.Issuer, tokenFile)...); err != nil {
		return nil, err
	}
	caPEM, err := os.ReadFile(pki.caCert)
	if err != nil {
		return nil, err
	}
	if err := waitHTTP(ctx, apiClient(caPEM, adminToken), s.APIServer+"/readyz", 90*time.Second); err != nil {
		return nil, fmt.Errorf("kube-apiserver did not become ready (log: %s): %w", filepath.Join(dir, "kube-apiserver.log"), err)
	}

	s.Context = fmt.Sprintf("arn:aws:eks:%s:%s:cluster/%s", Region, Account, ClusterName)
	s.Kubeconfig = filepath.Join(dir, "kubeconfig")
	if err := writeKubeconfig(s.Kubeconfig, s.Context, s.APIServer, caPEM, adminToken); err != nil {
		return nil, err
	}
	s.ViewerKubeconfig = filepath.Join(dir, "viewer.kubeconfig")
	if err := writeKubeconfig(s.ViewerKubeconfig, s.Context, s.APIServer, caPEM, viewerToken); err != nil {
		return nil, err
	}

	restConfig, err := clientcmd.BuildConfigFromFlags("", s.Kubeconfig)
	if err != nil {
		return nil, err
	}
	// The webhook reads the pod's ServiceAccount at each admission: client-go's default 5 requests a second
	// would pace fleet-size pod creation (benchmarks create 10,000 pods) to the webhook's client.
	restConfig.QPS, restConfig.Burst = 500, 1000
	kube, err := kubernetes.NewForConfig(restConfig)
	if err != nil {
		return nil, err
	}
	s.EKS.kube = kube
	s.EKS.addCluster(ClusterName, s.Issuer, &s.tokenKey.PublicKey, kube)
	if s.Webhook, err = startWebhook(kube, s.EKS, pki.webhookCert, pki.webhookKey); err != nil {
		return nil, err
	}
	if err := s.Webhook.register(ctx, caPEM); err != nil {
		return nil, err
	}
	s.Clusters = []Cluster{{Name: ClusterName, Context: s.Context, Issuer: s.Issuer, APIServer: s.APIServer, Webhook: s.Webhook}}
	for n := 2; n <= opts.Clusters; n++ {
		c, err := s.startCluster(ctx, opts.BinDir, logw, fmt.Sprintf("%s-%d", ClusterName, n), etcdURL, tokenFile, adminToken, viewerToken)
		if err != nil {
			return nil, err
		}
		s.Clusters = append(s.Clusters, c)
	}
	if opts.MotoAuth {
		if err := s.enableMotoAuth(ctx); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// apiServerArgs are kube-apiserver's flags for a cluster: its etcd prefix ("" is the default, /registry), port,
// certificates and service-account keys (from pki, certificates cached under dir/certs) and issuer.
func apiServerArgs(etcdURL, etcdPrefix string, port int, dir string, pki pkiFiles, issuer, tokenFile string) []string {
	args := []string{
		"--etcd-servers=" + etcdURL,
		"--bind-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(port),
		"--cert-dir=" + filepath.Join(dir, "certs"),
		"--tls-cert-file=" + pki.serverCert, "--tls-private-key-file=" + pki.serverKey,
		"--service-account-issuer=" + issuer,
		"--service-account-key-file=" + pki.saPublic,
		"--service-account-signing-key-file=" + pki.saPrivate,
		"--token-auth-file=" + tokenFile,
		"--authorization-mode=RBAC",
		"--service-cluster-ip-range=10.96.0.0/24",
		"--enable-priority-and-fairness=false",
	}
	if etcdPrefix != "" {
		args = append(args, "--etcd-prefix="+etcdPrefix)
	}
	return args
}

// startCluster starts a further cluster: its EKS record in moto, its own keys and certificates (under Dir/NAME),
// a kube-apiserver on the shared etcd under the prefix /NAME with the issuer the EKS record reports, its context
// added to Kubeconfig (the current context stays), and its pod identity webhook.
func (s *Sandbox) startCluster(ctx context.Context, binDir string, logw io.Writer, name, etcdURL, tokenFile, adminToken, viewerToken string) (Cluster, error) {
	c := Cluster{Name: name, Context: fmt.Sprintf("arn:aws:eks:%s:%s:cluster/%s", Region, Account, name)}
	if _, err := s.createNamedEKSCluster(ctx, name); err != nil {
		return c, err
	}
	// moto 5.2 gives every cluster the same issuer: this one gets its own, EKS-shaped (32 hex digits), which the
	// proxy's DescribeCluster reports.
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return c, err
	}
	c.Issuer = fmt.Sprintf("https://oidc.eks.%s.amazonaws.com/id/%X", Region, id)
	s.EKS.setIssuer(name, c.Issuer)
	dir := filepath.Join(s.Dir, name)
	if err := os.Mkdir(dir, 0o700); err != nil {
		return c, err
	}
	pki, err := writePKI(dir)
	if err != nil {
		return c, err
	}
	port, err := freePort()
	if err != nil {
		return c, err
	}
	c.APIServer = "https://127.0.0.1:" + strconv.Itoa(port)
	if err := s.start("kube-apiserver-"+name, logw, 10*time.Second, filepath.Join(binDir, "kube-apiserver"),
		apiServerArgs(etcdURL, "/"+name, port, dir, pki, c.Issuer, tokenFile)...); err != nil {
		return c, err
	}
	caPEM, err := os.ReadFile(pki.caCert)
	if err != nil {
		return c, err
	}
	if err := waitHTTP(ctx, apiClient(caPEM, adminToken), c.APIServer+"/readyz", 90*time.Second); err != nil {
		return c, fmt.Errorf("kube-apiserver of %s did not become ready (log: %s): %w", name, filepath.Join(s.Dir, "kube-apiserver-"+name+".log"), err)
	}
	cfg, err := clientcmd.LoadFromFile(s.Kubeconfig)
	if err != nil {
		return c, err
	}
	cfg.Clusters[c.Context] = &clientcmdapi.Cluster{Server: c.APIServer, CertificateAuthorityData: caPEM}
	cfg.AuthInfos[c.Context] = &clientcmdapi.AuthInfo{Token: adminToken}
	cfg.Contexts[c.Context] = &clientcmdapi.Context{Cluster: c.Context, AuthInfo: c.Context, Namespace: "default"}
	if err := clientcmd.WriteToFile(*cfg, s.Kubeconfig); err != nil {
		return c, err
	}
	// The viewer (no RBAC grant until a test gives one) has a context for this cluster too.
	viewer, err := clientcmd.LoadFromFile(s.ViewerKubeconfig)
	if err != nil {
		return c, err
	}
	viewer.Clusters[c.Context] = &clientcmdapi.Cluster{Server: c.APIServer, CertificateAuthorityData: caPEM}
	viewer.AuthInfos[c.Context] = &clientcmdapi.AuthInfo{Token: viewerToken}
	viewer.Contexts[c.Context] = &clientcmdapi.Context{Cluster: c.Context, AuthInfo: c.Context, Namespace: "default"}
	if err := clientcmd.WriteToFile(*viewer, s.ViewerKubeconfig); err != nil {
		return c, err
	}
	restConfig, err := clientcmd.NewNonInteractiveClientConfig(*cfg, c.Context, &clientcmd.ConfigOverrides{}, nil).ClientConfig()
	if err != nil {
		return c, err
	}
	restConfig.QPS, restConfig.Burst = 500, 1000
	kube, err := kubernetes.NewForConfig(restConfig)
	if err != nil {
		return c, err
	}
	if c.Webhook, err = startWebhook(kube, s.EKS, pki.webhookCert, pki.webhookKey); err != nil {
		return c, err
	}
	c.Webhook.cluster = name
	key, err := loadTokenKey(pki.saPrivate)
	if err != nil {
		c.Webhook.Close()
		return c, err
	}
	s.EKS.addCluster(name, c.Issuer, &key.PublicKey, kube)
	// Once returned, Stop closes it (from Clusters); on error here, close it now.
	if err := c.Webhook.register(ctx, caPEM); err != nil {
		c.Webhook.Close()
		return c, err
	}
	return c, nil
}

// createEKSCluster creates the EKS cluster record of ClusterName in moto and returns its OIDC issuer.
func (s *Sandbox) createEKSCluster(ctx context.Context) (string, error) {
	return s.createNamedEKSCluster(ctx, ClusterName)
}

// createNamedEKSCluster creates an EKS cluster record in moto and returns its OIDC issuer.
func (s *Sandbox) createNamedEKSCluster(ctx context.Context, name string) (string, error) {
	client := eks.New(eks.Options{
		Region:       Region,
		BaseEndpoint: aws.String(s.MotoEndpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
	})
	out, err := client.CreateCluster(ctx, &eks.CreateClusterInput{
		Name:    aws.String(name),
		RoleArn: aws.String(fmt.Sprintf("arn:aws:iam::%s:role/%s-cluster", Account, name)),
		ResourcesVpcConfig: &ekstypes.VpcConfigRequest{
			SubnetIds: []string{"subnet-0sandbox1", "subnet-0sandbox2"},
		},
	})
	if err != nil {
		return "", fmt.Errorf("create EKS cluster in moto: %w", err)
	}
	if out.Cluster == nil || out.Cluster.Identity == nil || out.Cluster.Identity.Oidc == nil || aws.ToString(out.Cluster.Identity.Oidc.Issuer) == "" {
		return "", errors.New("moto's EKS cluster has no OIDC issuer")
	}
	return aws.ToString(out.Cluster.Identity.Oidc.Issuer), nil
}

// start launches a server in its own process group, logging to DIR/NAME.log and to logw.
func (s *Sandbox) start(name string, logw io.Writer, grace time.Duration, bin string, args ...string) error {
	logFile, err := os.Create(filepath.Join(s.Dir, name+".log"))
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout = io.MultiWriter(logFile, logw)
	cmd.Stderr = cmd.Stdout
	// Own process group, so Stop reaches every child; killed with us if we die without calling Stop.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Env = append(os.Environ(), "PYTHONUNBUFFERED=1")
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, done: make(chan struct{}), grace: grace}
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	s.procs = append(s.procs, p)
	return nil
}

// Stop ends every process, the last started first (kube-apiserver before etcd: it can hang on SIGTERM once
// etcd is gone), then removes the sandbox's temp dir. It is safe to call more than once.
func (s *Sandbox) Stop() {
	for _, c := range s.Clusters[min(1, len(s.Clusters)):] {
		c.Webhook.Close()
	}
	s.Clusters = nil
	if s.Webhook != nil {
		s.Webhook.Close()
		s.Webhook = nil
	}
	if s.AWS != nil {
		s.AWS.Close()
		s.AWS = nil
	}
	if s.Kubelet != nil {
		s.Kubelet.Close()
		s.Kubelet = nil
	}
	for i := len(s.procs) - 1; i >= 0; i-- {
		p := s.procs[i]
		pgid := -p.cmd.Process.Pid
		_ = syscall.Kill(pgid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(p.grace):
			_ = syscall.Kill(pgid, syscall.SIGKILL)
			<-p.done
		}
		// Children that outlived the group leader.
		_ = syscall.Kill(pgid, syscall.SIGKILL)
	}
	s.procs = nil
	if s.Dir != "" {
		_ = os.RemoveAll(s.Dir)
	}
}

// removeStaleDirs deletes sandbox dirs whose owner process is gone (a run killed before it could clean up).
func removeStaleDirs() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+"*"))
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "owner.pid"))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || syscall.Kill(pid, 0) == nil {
			continue
		}
		_ = os.RemoveAll(d)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitHTTP polls url until it answers 200 or the timeout passes.
func waitHTTP(ctx context.Context, client *http.Client, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("%s: %s", url, resp.Status)
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("timed out after %s: %w", timeout, last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// apiClient is an HTTP client that trusts the sandbox CA and sends the admin token.
func apiClient(caPEM []byte, token string) *http.Client {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	return &http.Client{
		Timeout:   5 * time.Second,
		Transport: &bearer{token: token, next: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}},
	}
}

type bearer struct {
	token string
	next  http.RoundTripper
}

func (b *bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

func writeKubeconfig(path, name, server string, caPEM []byte, token string) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[name] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: caPEM}
	cfg.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name, Namespace: "default"}
	cfg.CurrentContext = name
	return clientcmd.WriteToFile(*cfg, path)
}
