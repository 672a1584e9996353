package sandbox

import (
	"io"
	"net/http"
	"testing"
)

// TestKubeletLogs: the stand-in kubelet applies tailLines, then limitBytes, as the kubelet does, answers 404 for
// a container it has no log of, and records each request.
func TestKubeletLogs(t *testing.T) {
	k := startKubelet()
	defer k.Close()
	k.SetLog("ns", "pod", "app", "one\ntwo\nthree\nfour\n")
	client := k.server.Client()
	for _, c := range []struct {
		query  string
		status int
		body   string
	}{
		{"", 200, "one\ntwo\nthree\nfour\n"},
		{"?tailLines=2", 200, "three\nfour\n"},
		{"?tailLines=0", 200, ""},
		{"?tailLines=10", 200, "one\ntwo\nthree\nfour\n"},
		{"?limitBytes=5", 200, "one\nt"},
		{"?tailLines=2&limitBytes=3", 200, "thr"},
		{"?limitBytes=0", 400, ""},
	} {
		resp, err := client.Get(k.server.URL + "/containerLogs/ns/pod/app" + c.query)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status || c.status == 200 && string(b) != c.body {
			t.Errorf("%s: %d %q, want %d %q", c.query, resp.StatusCode, b, c.status, c.body)
		}
	}
	resp, err := client.Get(k.server.URL + "/containerLogs/ns/pod/other")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown container: %d", resp.StatusCode)
	}
	if n := len(k.Requests()); n != 8 {
		t.Errorf("%d requests recorded, want 8", n)
	}
	k.Reset()
	if len(k.Requests()) != 0 {
		t.Errorf("Reset kept requests")
	}
}
