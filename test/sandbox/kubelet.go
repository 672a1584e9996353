package sandbox

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Kubelet stands in for the kubelet of the sandbox's nodes (AddNode), for one API only: container logs, which
// kube-apiserver fetches from the node's kubelet for `GET /api/v1/namespaces/NS/pods/POD/log`. It serves
// GET /containerLogs/NS/POD/CONTAINER over TLS (kube-apiserver checks no kubelet certificate unless started with
// --kubelet-certificate-authority), applying tailLines (the last N lines) then limitBytes (the first N bytes of
// those) as the kubelet does, and records every request. Nothing runs: the logs are what tests set.
type Kubelet struct {
	server *httptest.Server

	mu       sync.Mutex
	logs     map[string]string // NS/POD/CONTAINER -> log
	requests []LogRequest
}

// LogRequest is one container log request as kube-apiserver forwarded it.
type LogRequest struct {
	Namespace, Pod, Container string
	// Query is the request's query (tailLines, limitBytes, previous, follow...).
	Query url.Values
}

func startKubelet() *Kubelet {
	k := &Kubelet{logs: map[string]string{}}
	k.server = httptest.NewTLSServer(http.HandlerFunc(k.serve))
	return k
}

// Port is the kubelet's port on 127.0.0.1.
func (k *Kubelet) Port() int32 {
	u, _ := url.Parse(k.server.URL)
	p, _ := strconv.Atoi(u.Port())
	return int32(p)
}

// SetLog sets the log of a container (what the kubelet would read from the container runtime).
func (k *Kubelet) SetLog(namespace, pod, container, log string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.logs[namespace+"/"+pod+"/"+container] = log
}

// Requests returns the log requests served so far, in order.
func (k *Kubelet) Requests() []LogRequest {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]LogRequest(nil), k.requests...)
}

// Reset forgets the logs and the requests.
func (k *Kubelet) Reset() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.logs = map[string]string{}
	k.requests = nil
}

// Close stops the kubelet.
func (k *Kubelet) Close() { k.server.Close() }

func (k *Kubelet) serve(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/containerLogs/"), "/")
	if r.Method != http.MethodGet || !strings.HasPrefix(r.URL.Path, "/containerLogs/") || len(parts) != 3 {
		http.NotFound(w, r)
		return
	}
	q := r.URL.Query()
	k.mu.Lock()
	k.requests = append(k.requests, LogRequest{Namespace: parts[0], Pod: parts[1], Container: parts[2], Query: q})
	log, ok := k.logs[strings.Join(parts, "/")]
	k.mu.Unlock()
	if !ok {
		http.Error(w, fmt.Sprintf("container %q in pod %q is not available", parts[2], parts[1]), http.StatusNotFound)
		return
	}
	if v := q.Get("tailLines"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			http.Error(w, "invalid tailLines", http.StatusBadRequest)
			return
		}
		lines := strings.SplitAfter(log, "\n")
		if lines[len(lines)-1] == "" {
			lines = lines[:len(lines)-1]
		}
		log = strings.Join(lines[max(0, len(lines)-n):], "")
	}
	if v := q.Get("limitBytes"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			http.Error(w, "invalid limitBytes", http.StatusBadRequest)
			return
		}
		log = log[:min(n, len(log))]
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte(log))
}

// AddNode registers a node whose kubelet is the sandbox's Kubelet (InternalIP 127.0.0.1, its port), Ready, with
// the labels given; pods bound to it (spec.nodeName) have their logs served by Kubelet.
func (s *Sandbox) AddNode(ctx context.Context, kube kubernetes.Interface, name string, labels map[string]string) (*corev1.Node, error) {
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
	created, err := kube.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("create node %s: %w", name, err)
	}
	created.Status = corev1.NodeStatus{
		Addresses:       []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "127.0.0.1"}},
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: s.Kubelet.Port()}},
		Conditions:      []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
	}
	updated, err := kube.CoreV1().Nodes().UpdateStatus(ctx, created, metav1.UpdateOptions{})
	if err != nil {
		return nil, fmt.Errorf("set status of node %s: %w", name, err)
	}
	return updated, nil
}
