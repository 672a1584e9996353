// Package krew checks the release files with krew's own tools, as krew-index's CI and users would: the
// manifests pass validate-krew-manifest, every platform's entry installs, and on this machine
// `kubectl krew install --manifest --archive` gives a working `kubectl irsa`. It also checks that `make dist` is
// reproducible. The tools (validate-krew-manifest, kubectl-krew) are built by hack/krew-tools.sh (`make
// krew-tools`) into $KUBECTL_IRSA_BIN_DIR; nothing here contacts a host other than loopback.
//
// By default only this machine's archive is compiled (hack/dist.sh with PLATFORMS); the other platforms get
// stand-in archives made by the same archive writer, so their manifest entries (URI, sha256, selector, files,
// bin) are still validated and installed by validate-krew-manifest without compiling the plugin four more times.
// With KUBECTL_IRSA_DIST_ALL=1 (`make krew-check`, for releases) every platform is compiled, as `make dist` does.
package krew

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"text/template"
	"time"

	"sigs.k8s.io/yaml"
)

const (
	// testVersion is the version the tests build dist/ with, so `kubectl irsa version` can be checked.
	testVersion = "v0.0.0-krewtest"
	releaseBase = "https://github.com/kubectl-irsa/kubectl-irsa/releases/download/"
	// noProxy routes every non-loopback HTTP(S) request of krew to a closed loopback port, so one would fail
	// instead of reaching the network (Go never proxies loopback requests).
	noProxy = "http://127.0.0.1:9"
)

// coreOf is the full CLI's file beside the plugin's binary bin in an archive (irsa-core, irsa-core.exe).
func coreOf(bin string) string { return strings.Replace(bin, "kubectl-irsa", "irsa-core", 1) }

// archives are the files `make dist` writes, with the binary each holds (and coreOf it).
var archives = map[string]string{
	"kubectl-irsa_darwin_amd64.tar.gz": "kubectl-irsa",
	"kubectl-irsa_darwin_arm64.tar.gz": "kubectl-irsa",
	"kubectl-irsa_linux_amd64.tar.gz":  "kubectl-irsa",
	"kubectl-irsa_linux_arm64.tar.gz":  "kubectl-irsa",
	"kubectl-irsa_windows_amd64.zip":   "kubectl-irsa.exe",
}

var (
	// root is the module root; the tests run in test/krew.
	root, _ = filepath.Abs("../..")

	shared struct {
		once   sync.Once
		dir    string
		server *httptest.Server
		err    error
	}
)

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.server != nil {
		shared.server.Close()
	}
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the release archives (-short)")
	}
	if runtime.GOOS == "windows" {
		t.Skip("hack/dist.sh needs bash")
	}
}

// sharedDist builds dist/ once for the tests, with the krew manifest's URIs pointing at a loopback server
// that serves the archives, so validate-krew-manifest can download and install every platform.
func sharedDist(t *testing.T) (dir string) {
	t.Helper()
	shared.once.Do(func() {
		shared.dir, shared.err = os.MkdirTemp("", "kubectl-irsa-dist-")
		if shared.err != nil {
			return
		}
		shared.server = httptest.NewServer(http.FileServer(http.Dir(shared.dir)))
		shared.err = buildDist(shared.dir)
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.dir
}

// allPlatforms reports whether the tests compile every release platform (KUBECTL_IRSA_DIST_ALL=1).
func allPlatforms() bool { return os.Getenv("KUBECTL_IRSA_DIST_ALL") == "1" }

// buildDist runs hack/dist.sh (what `make dist` runs) into dir: for every platform with
// KUBECTL_IRSA_DIST_ALL=1, else for this machine's only, completed with stand-ins for the others.
func buildDist(dir string) error {
	env := append(os.Environ(), "DIST_DIR="+dir, "VERSION="+testVersion, "KREW_URI_BASE="+shared.server.URL)
	if !allPlatforms() {
		env = append(env, "PLATFORMS="+runtime.GOOS+"/"+runtime.GOARCH)
	}
	if out, err := command(env, "bash", filepath.Join(root, "hack", "dist.sh")); err != nil {
		return fmt.Errorf("hack/dist.sh: %v\n%s", err, out)
	}
	if allPlatforms() {
		return nil
	}
	return addStandIns(dir)
}

// addStandIns writes, with hack/dist's own archive writer, an archive for every release platform that dir lacks,
// holding a shell script in place of the binary and the real LICENSE, then the checksums and the krew manifest
// of all of them, as hack/dist.sh does after compiling.
func addStandIns(dir string) error {
	env := os.Environ()
	tool := filepath.Join(dir, ".dist-tool")
	defer os.Remove(tool)
	if out, err := command(env, "go", "build", "-o", tool, "./hack/dist"); err != nil {
		return fmt.Errorf("build hack/dist: %v\n%s", err, out)
	}
	standIn := filepath.Join(dir, ".stand-in")
	defer os.Remove(standIn)
	if err := os.WriteFile(standIn, []byte("#!/bin/sh\necho 'stand-in: not compiled for this platform' >&2\nexit 1\n"), 0o755); err != nil {
		return err
	}
	mtime := "unknown"
	if ct := gitCommitTime(); !ct.IsZero() {
		mtime = ct.Format(time.RFC3339)
	}
	var paths []string
	for _, name := range slices.Sorted(maps.Keys(archives)) {
		path := filepath.Join(dir, name)
		paths = append(paths, path)
		if _, err := os.Stat(path); err == nil {
			continue
		}
		if out, err := command(env, tool, "archive", "-o", path, "-mtime", mtime, archives[name]+"="+standIn, coreOf(archives[name])+"="+standIn, "LICENSE="+filepath.Join(root, "LICENSE")); err != nil {
			return fmt.Errorf("stand-in %s: %v\n%s", name, err, out)
		}
	}
	sums := filepath.Join(dir, "checksums.txt")
	if out, err := command(env, tool, append([]string{"checksums", "-o", sums}, paths...)...); err != nil {
		return fmt.Errorf("checksums: %v\n%s", err, out)
	}
	manifest := filepath.Join(dir, "krew", "irsa.yaml")
	if out, err := command(env, tool, "manifest", "-checksums", sums, "-version", testVersion, "-uri-base", shared.server.URL, "-o", manifest); err != nil {
		return fmt.Errorf("manifest: %v\n%s", err, out)
	}
	return nil
}

// command runs name in the module root with env and returns its combined output.
func command(env []string, name string, args ...string) ([]byte, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = root
	cmd.Env = env
	return cmd.CombinedOutput()
}

// tool returns the path of a binary built by hack/krew-tools.sh.
func tool(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("KUBECTL_IRSA_BIN_DIR")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".cache", "kubectl-irsa", "bin")
	}
	path := filepath.Join(dir, name)
	if info, err := os.Stat(path); err != nil || info.Mode()&0o111 == 0 {
		t.Fatalf("%s not found in %s: run `make krew-tools` (hack/krew-tools.sh builds krew's tools there)", name, dir)
	}
	return path
}

// krewEnv is the environment of krew and kubectl runs: PATH holds only KREW_ROOT/bin, kubectl-krew and kubectl,
// HOME is empty, and the upgrade check and any non-loopback download are disabled.
func krewEnv(t *testing.T, krewRoot string) []string {
	t.Helper()
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Fatal("kubectl is not on PATH: the krew test runs the real kubectl")
	}
	tools := t.TempDir()
	if err := os.Symlink(tool(t, "kubectl-krew"), filepath.Join(tools, "kubectl-krew")); err != nil {
		t.Fatal(err)
	}
	path := strings.Join([]string{filepath.Join(krewRoot, "bin"), tools, filepath.Dir(kubectl)}, string(os.PathListSeparator))
	return []string{
		"PATH=" + path,
		"HOME=" + t.TempDir(),
		"KREW_ROOT=" + krewRoot,
		"KREW_NO_UPGRADE_CHECK=1",
		"KUBECONFIG=" + filepath.Join(krewRoot, "no-kubeconfig"),
		"HTTP_PROXY=" + noProxy, "HTTPS_PROXY=" + noProxy, "http_proxy=" + noProxy, "https_proxy=" + noProxy,
		"NO_PROXY=", "no_proxy=",
	}
}

// run runs a command and returns its combined output, failing the test when it does not exit 0.
func run(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = root
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	t.Logf("$ %s %s\n%s", filepath.Base(name), strings.Join(args, " "), out)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestKrewInstall installs the plugin from the local archive with krew, as `kubectl krew install irsa` would
// from the index, runs it through kubectl, and uninstalls it.
func TestKrewInstall(t *testing.T) {
	skipShort(t)
	dist := sharedDist(t)
	ext := ".tar.gz"
	if runtime.GOOS == "windows" {
		ext = ".zip"
	}
	archive := fmt.Sprintf("kubectl-irsa_%s_%s%s", runtime.GOOS, runtime.GOARCH, ext)
	if _, ok := archives[archive]; !ok {
		t.Skipf("no release archive for %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	krewRoot := t.TempDir()
	env := krewEnv(t, krewRoot)
	manifest := filepath.Join(dist, "krew", "irsa.yaml")

	// krew list and uninstall want a local index, which `kubectl krew update` would clone from GitHub: an empty
	// local git repository stands in for it.
	git, err := exec.LookPath("git")
	if err != nil {
		t.Fatal("git is not on PATH")
	}
	run(t, env, git, "init", "-q", filepath.Join(krewRoot, "index", "default"))

	out := run(t, env, "kubectl", "krew", "install", "--manifest="+manifest, "--archive="+filepath.Join(dist, archive))
	if !strings.Contains(out, "Installed plugin: irsa") {
		t.Fatalf("krew install did not report the installation:\n%s", out)
	}
	installed := filepath.Join(krewRoot, "bin", "kubectl-irsa")
	if _, err := os.Lstat(installed); err != nil {
		t.Fatalf("krew did not link the plugin: %v", err)
	}
	for _, file := range []string{"LICENSE", "irsa-core"} {
		if _, err := os.Stat(filepath.Join(krewRoot, "store", "irsa", testVersion, file)); err != nil {
			t.Errorf("krew did not install %s: %v", file, err)
		}
	}

	// version runs in the full CLI (irsa-core, found through krew's link); a logs-only doctor in the entry.
	if out := run(t, env, "kubectl", "irsa", "version"); !strings.Contains(out, "kubectl irsa "+testVersion+" ") {
		t.Errorf("kubectl irsa version does not print %s:\n%s", testVersion, out)
	}
	if out := run(t, env, "kubectl", "irsa", "doctor", "--logs-file", filepath.Join(root, "LICENSE")); !strings.Contains(out, "no IRSA or Pod Identity problem found") {
		t.Errorf("kubectl irsa doctor --logs-file LICENSE:\n%s", out)
	}
	if out := run(t, env, "kubectl", "plugin", "list"); !strings.Contains(out, installed) {
		t.Errorf("kubectl plugin list does not show %s:\n%s", installed, out)
	}
	if out := run(t, env, "kubectl", "krew", "list"); !strings.Contains(out, "irsa") {
		t.Errorf("kubectl krew list does not show irsa:\n%s", out)
	}
	receipt := filepath.Join(krewRoot, "receipts", "irsa.yaml")
	if r := mustRead(t, receipt); !strings.Contains(r, "version: "+testVersion) || !strings.Contains(r, "name: detached") {
		t.Errorf("krew's receipt does not record irsa %s from a local manifest:\n%s", testVersion, r)
	}

	run(t, env, "kubectl", "krew", "uninstall", "irsa")
	for _, gone := range []string{installed, receipt, filepath.Join(krewRoot, "store", "irsa")} {
		if _, err := os.Lstat(gone); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still exists after uninstall (err %v)", gone, err)
		}
	}
	if out := run(t, env, "kubectl", "plugin", "list"); strings.Contains(out, "kubectl-irsa") {
		t.Errorf("kubectl plugin list still shows kubectl-irsa after uninstall:\n%s", out)
	}
}

// TestValidateDistManifest runs krew-index's validator on dist/krew/irsa.yaml, installing every platform's
// archive (downloaded from the loopback server) and checking that each has a LICENSE.
func TestValidateDistManifest(t *testing.T) {
	skipShort(t)
	dist := sharedDist(t)
	env := krewEnv(t, t.TempDir())
	path := filepath.Join(dist, "krew", "irsa.yaml")
	out := run(t, env, tool(t, "validate-krew-manifest"), "-manifest", path)
	if !strings.Contains(out, fmt.Sprintf("all %d spec.platforms installed fine", len(archives))) {
		t.Errorf("validate-krew-manifest did not install every platform:\n%s", out)
	}
	m := readManifest(t, path)
	checkPlatforms(t, m, shared.server.URL+"/")
	sums := checksums(t, filepath.Join(dist, "checksums.txt"))
	for _, p := range m.Spec.Platforms {
		if name := filepath.Base(p.URI); p.Sha256 != sums[name] {
			t.Errorf("%s: sha256 %s, checksums.txt has %s", name, p.Sha256, sums[name])
		}
	}
}

// TestValidateIndexManifest runs the validator on plugins/irsa.yaml, the manifest for krew-index, and checks
// that it lists exactly the release archives at their GitHub release URLs. Its archives are those of a
// release, not of this build, so it is validated without installing.
func TestValidateIndexManifest(t *testing.T) {
	skipShort(t)
	path := filepath.Join(root, "plugins", "irsa.yaml")
	run(t, krewEnv(t, t.TempDir()), tool(t, "validate-krew-manifest"), "-manifest", path, "-skip-install")
	m := readManifest(t, path)
	checkPlatforms(t, m, releaseBase+m.Spec.Version+"/")
}

// TestReleaseBotTemplate checks .krew.yaml, krew-release-bot's template: it is what `make krew-manifest`
// generates, and rendered as the bot renders it (tag and addURIAndSha), it is the manifest `make dist` writes.
func TestReleaseBotTemplate(t *testing.T) {
	skipShort(t)
	generated := filepath.Join(t.TempDir(), "krew.yaml")
	run(t, os.Environ(), "go", "run", "./hack/dist", "manifest", "-krew-release-bot", "-o", generated)
	want, err := os.ReadFile(generated)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile(filepath.Join(root, ".krew.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(committed, want) {
		t.Fatalf(".krew.yaml is not what hack/dist generates: run `make krew-manifest` (after `make dist`)\n--- .krew.yaml\n%s\n--- generated\n%s", committed, want)
	}

	dist := sharedDist(t)
	sums := checksums(t, filepath.Join(dist, "checksums.txt"))
	// The bot's addURIAndSha: render the URL with the tag, fetch it, and write "uri:" and "sha256:" lines.
	tmpl, err := template.New(".krew.yaml").Funcs(template.FuncMap{
		"addURIAndSha": func(url, tag string) (string, error) {
			url = strings.ReplaceAll(url, "{{ .TagName }}", tag)
			sum, ok := sums[filepath.Base(url)]
			if !ok {
				return "", fmt.Errorf("no archive %s in dist", filepath.Base(url))
			}
			return fmt.Sprintf("uri: %s\n    sha256: %s", url, sum), nil
		},
	}).Parse(string(committed))
	if err != nil {
		t.Fatalf(".krew.yaml is not a valid template: %v", err)
	}
	var rendered bytes.Buffer
	if err := tmpl.Execute(&rendered, struct{ TagName string }{testVersion}); err != nil {
		t.Fatal(err)
	}
	distManifest, err := os.ReadFile(filepath.Join(dist, "krew", "irsa.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// dist/krew/irsa.yaml points at the loopback server instead of the release.
	wantRendered := strings.ReplaceAll(string(distManifest), shared.server.URL+"/", releaseBase+testVersion+"/")
	if rendered.String() != wantRendered {
		t.Errorf(".krew.yaml rendered for %s differs from dist/krew/irsa.yaml:\n--- rendered\n%s\n--- dist\n%s", testVersion, rendered.String(), wantRendered)
	}
	// validate-krew-manifest wants the file named after the plugin.
	renderedPath := filepath.Join(t.TempDir(), "irsa.yaml")
	if err := os.WriteFile(renderedPath, rendered.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, krewEnv(t, t.TempDir()), tool(t, "validate-krew-manifest"), "-manifest", renderedPath, "-skip-install")
}

// TestDistReproducible builds dist/ a second time, in another directory, and requires byte-identical files,
// then checks what the archives hold: the binary and LICENSE, owned by 0/0, with the commit time as mtime.
func TestDistReproducible(t *testing.T) {
	skipShort(t)
	first := sharedDist(t)
	second := t.TempDir()
	if err := buildDist(second); err != nil {
		t.Fatal(err)
	}
	names := append(slices.Sorted(maps.Keys(archives)), "checksums.txt", filepath.Join("krew", "irsa.yaml"))
	for _, name := range names {
		a, err := os.ReadFile(filepath.Join(first, name))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(second, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two builds of the same commit (%d and %d bytes)", name, len(a), len(b))
		}
	}
	t.Logf("checksums.txt:\n%s", mustRead(t, filepath.Join(first, "checksums.txt")))

	commitTime := gitCommitTime()
	license := mustRead(t, filepath.Join(root, "LICENSE"))
	for name, bin := range archives {
		entries := listArchive(t, filepath.Join(first, name))
		core := coreOf(bin)
		if got := slices.Sorted(maps.Keys(entries)); !slices.Equal(got, []string{"LICENSE", core, bin}) {
			t.Errorf("%s holds %v, want [LICENSE %s %s]", name, got, core, bin)
			continue
		}
		for entryName, e := range entries {
			if !commitTime.IsZero() && !e.modTime.Equal(commitTime) {
				t.Errorf("%s: %s has mtime %s, want the commit time %s", name, entryName, e.modTime, commitTime)
			}
			if e.uid != 0 || e.gid != 0 || e.owner != "" {
				t.Errorf("%s: %s is owned by %d/%d %q, want 0/0 with no names", name, entryName, e.uid, e.gid, e.owner)
			}
		}
		for _, exe := range []string{bin, core} {
			if e := entries[exe]; e.mode.Perm() != 0o755 {
				t.Errorf("%s: %s has mode %v, want 0755", name, exe, e.mode.Perm())
			}
		}
		if e := entries["LICENSE"]; e.mode.Perm() != 0o644 || e.data != license {
			t.Errorf("%s: LICENSE has mode %v and differs from the repository's: %v", name, e.mode.Perm(), e.data != license)
		}
	}
}

type archiveEntry struct {
	mode     os.FileMode
	modTime  time.Time
	uid, gid int
	owner    string
	data     string // only for LICENSE
}

func listArchive(t *testing.T, path string) map[string]archiveEntry {
	t.Helper()
	entries := map[string]archiveEntry{}
	if strings.HasSuffix(path, ".zip") {
		zr, err := zip.OpenReader(path)
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		for _, f := range zr.File {
			e := archiveEntry{mode: f.Mode(), modTime: f.Modified}
			if f.Name == "LICENSE" {
				rc, err := f.Open()
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(rc)
				rc.Close()
				e.data = string(b)
			}
			entries[f.Name] = e
		}
		return entries
	}
	file, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	gz, err := gzip.NewReader(file)
	if err != nil {
		t.Fatal(err)
	}
	if !gz.ModTime.IsZero() || gz.Name != "" {
		t.Errorf("%s: gzip header has name %q and time %v, want neither", path, gz.Name, gz.ModTime)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		e := archiveEntry{mode: h.FileInfo().Mode(), modTime: h.ModTime, uid: h.Uid, gid: h.Gid, owner: h.Uname + h.Gname}
		if h.Name == "LICENSE" {
			b, _ := io.ReadAll(tr)
			e.data = string(b)
		}
		entries[h.Name] = e
	}
	return entries
}

// gitCommitTime is the commit time hack/dist.sh stamps into the archives, or zero outside a git checkout.
func gitCommitTime() time.Time {
	cmd := exec.Command("git", "log", "-1", "--format=%cI")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return time.Time{}
	}
	ct, _ := time.Parse(time.RFC3339, strings.TrimSpace(string(out)))
	return ct
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func checksums(t *testing.T, path string) map[string]string {
	t.Helper()
	sums := map[string]string{}
	for line := range strings.Lines(mustRead(t, path)) {
		sum, name, ok := strings.Cut(strings.TrimSpace(line), "  ")
		if !ok {
			t.Fatalf("%s: bad line %q", path, line)
		}
		sums[name] = sum
	}
	return sums
}

// manifest is the part of a krew manifest the tests look at.
type manifest struct {
	Metadata struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Version   string `json:"version"`
		Platforms []struct {
			URI      string `json:"uri"`
			Sha256   string `json:"sha256"`
			Bin      string `json:"bin"`
			Selector struct {
				MatchLabels map[string]string `json:"matchLabels"`
			} `json:"selector"`
			Files []struct {
				From string `json:"from"`
				To   string `json:"to"`
			} `json:"files"`
		} `json:"platforms"`
	} `json:"spec"`
}

func readManifest(t *testing.T, path string) manifest {
	t.Helper()
	var m manifest
	if err := yaml.Unmarshal([]byte(mustRead(t, path)), &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

// checkPlatforms checks that m has one platform per release archive, at base+archive, with the right binary.
func checkPlatforms(t *testing.T, m manifest, base string) {
	t.Helper()
	if m.Metadata.Name != "irsa" {
		t.Errorf("metadata.name is %q, want irsa", m.Metadata.Name)
	}
	seen := map[string]bool{}
	for _, p := range m.Spec.Platforms {
		name := strings.TrimPrefix(p.URI, base)
		bin, ok := archives[name]
		if !ok {
			t.Errorf("platform %v: uri %s is not %s<archive>", p.Selector.MatchLabels, p.URI, base)
			continue
		}
		seen[name] = true
		os, arch := p.Selector.MatchLabels["os"], p.Selector.MatchLabels["arch"]
		if !strings.HasPrefix(name, "kubectl-irsa_"+os+"_"+arch+".") {
			t.Errorf("platform os=%s arch=%s points at %s", os, arch, name)
		}
		if p.Bin != bin {
			t.Errorf("%s: bin is %q, want %q", name, p.Bin, bin)
		}
	}
	if len(seen) != len(archives) || len(m.Spec.Platforms) != len(archives) {
		t.Errorf("the manifest has %d platforms for %d of the %d archives", len(m.Spec.Platforms), len(seen), len(archives))
	}
}
