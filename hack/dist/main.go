// Command dist writes kubectl irsa's release files deterministically, for hack/dist.sh and hack/krew-manifest.sh:
//
//	dist archive -o OUT.tar.gz|OUT.zip -mtime DATE NAME=FILE...  a tar.gz or zip holding FILEs as NAMEs
//	dist checksums -o OUT FILE...                                sha256sum-format checksums of FILEs
//	dist manifest -checksums FILE -version V [-uri-base URL] -o OUT
//	                                                             the krew manifest of the archives in FILE
//	dist manifest -krew-release-bot -o OUT                       the same manifest as a krew-release-bot template
//
// The archives are reproducible: entries in name order, every mtime set to DATE (the commit time), owner and
// group 0 with no names, fixed modes, and gzip without a name or timestamp. The same inputs give the same bytes.
package main

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"
)

const (
	pluginName = "irsa"
	binary     = "kubectl-irsa"
	core       = "irsa-core" // entry.CoreBinary
	repoURL    = "https://github.com/kubectl-irsa/kubectl-irsa"
	// releaseURIBase is where the release workflow uploads the archives; VERSION is replaced by the tag.
	releaseURIBase = repoURL + "/releases/download/VERSION"
)

func main() {
	if len(os.Args) < 2 {
		fail(errors.New("usage: dist archive|checksums|manifest [flags]"))
	}
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "archive":
		err = archiveCmd(args)
	case "checksums":
		err = checksumsCmd(args)
	case "manifest":
		err = manifestCmd(args)
	default:
		err = fmt.Errorf("unknown command %q: want archive, checksums or manifest", cmd)
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "dist:", err)
	os.Exit(1)
}

// entry is one file of an archive.
type entry struct {
	name string // path inside the archive
	data []byte
	mode int64 // 0o755 or 0o644
}

func archiveCmd(args []string) error {
	fs := flag.NewFlagSet("archive", flag.ContinueOnError)
	out := fs.String("o", "", "archive to write: *.tar.gz or *.zip")
	mtimeFlag := fs.String("mtime", "", "modification time of every entry: RFC 3339 (the commit date) or Unix seconds")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() == 0 {
		return errors.New("archive: -o and at least one NAME=FILE are required")
	}
	mtime, err := parseTime(*mtimeFlag)
	if err != nil {
		return err
	}
	var entries []entry
	for _, arg := range fs.Args() {
		name, file, ok := strings.Cut(arg, "=")
		if !ok || name == "" || file == "" {
			return fmt.Errorf("archive: %q is not NAME=FILE", arg)
		}
		data, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		info, err := os.Stat(file)
		if err != nil {
			return err
		}
		mode := int64(0o644)
		if info.Mode()&0o111 != 0 || strings.HasSuffix(name, ".exe") {
			mode = 0o755
		}
		entries = append(entries, entry{name: name, data: data, mode: mode})
	}
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.name, b.name) })

	var buf bytes.Buffer
	switch {
	case strings.HasSuffix(*out, ".tar.gz"):
		err = writeTarGz(&buf, entries, mtime)
	case strings.HasSuffix(*out, ".zip"):
		err = writeZip(&buf, entries, mtime)
	default:
		err = fmt.Errorf("archive: %s: want a .tar.gz or .zip name", *out)
	}
	if err != nil {
		return err
	}
	return writeFile(*out, buf.Bytes())
}

// parseTime reads the fixed archive time. An empty value means SOURCE_DATE_EPOCH, else 1980-01-01 (the earliest
// time zip can hold), so the archives stay reproducible even without git.
func parseTime(s string) (time.Time, error) {
	if s == "" || s == "unknown" {
		s = os.Getenv("SOURCE_DATE_EPOCH")
	}
	if s == "" {
		return time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC), nil
	}
	if secs, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(secs, 0).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("-mtime %q: want RFC 3339 or Unix seconds", s)
	}
	return t.UTC(), nil
}

func writeTarGz(w io.Writer, entries []entry, mtime time.Time) error {
	// No name, no timestamp, OS "unknown": the gzip header is the same on every machine.
	gz, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		hdr := &tar.Header{
			Typeflag: tar.TypeReg,
			Name:     e.name,
			Size:     int64(len(e.data)),
			Mode:     e.mode,
			ModTime:  mtime,
			Uid:      0,
			Gid:      0,
			Format:   tar.FormatUSTAR,
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := tw.Write(e.data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

func writeZip(w io.Writer, entries []entry, mtime time.Time) error {
	zw := zip.NewWriter(w)
	for _, e := range entries {
		hdr := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: mtime}
		hdr.SetMode(os.FileMode(e.mode))
		f, err := zw.CreateHeader(hdr)
		if err != nil {
			return err
		}
		if _, err := f.Write(e.data); err != nil {
			return err
		}
	}
	return zw.Close()
}

// writeFile writes through a temp file and a rename, so an interrupted run leaves no half archive.
func writeFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func checksumsCmd(args []string) error {
	fs := flag.NewFlagSet("checksums", flag.ContinueOnError)
	out := fs.String("o", "", "checksums file to write")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() == 0 {
		return errors.New("checksums: -o and at least one FILE are required")
	}
	files := slices.Clone(fs.Args())
	slices.SortFunc(files, func(a, b string) int { return strings.Compare(filepath.Base(a), filepath.Base(b)) })
	var buf bytes.Buffer
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		// sha256sum's text-mode format: "HASH  NAME", so `sha256sum -c checksums.txt` checks it.
		fmt.Fprintf(&buf, "%s  %s\n", hex.EncodeToString(sum[:]), filepath.Base(file))
	}
	return writeFile(*out, buf.Bytes())
}

// platform is one os/arch entry of the krew manifest.
type platform struct {
	OS, Arch, Archive, URI, Sha256, Bin, Core string
}

// platforms lists what `make dist` builds, in manifest order.
var platforms = []struct{ os, arch, ext string }{
	{"darwin", "amd64", ".tar.gz"},
	{"darwin", "arm64", ".tar.gz"},
	{"linux", "amd64", ".tar.gz"},
	{"linux", "arm64", ".tar.gz"},
	{"windows", "amd64", ".zip"},
}

// archiveName is the release file name of one platform's archive.
func archiveName(goos, goarch, ext string) string {
	return fmt.Sprintf("%s_%s_%s%s", binary, goos, goarch, ext)
}

var semverRE = regexp.MustCompile(`^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)

func manifestCmd(args []string) error {
	fs := flag.NewFlagSet("manifest", flag.ContinueOnError)
	out := fs.String("o", "", "manifest to write")
	checksums := fs.String("checksums", "", "checksums.txt written by `dist checksums`")
	version := fs.String("version", "", "plugin version, the release tag (vMAJOR.MINOR.PATCH[-PRE])")
	uriBase := fs.String("uri-base", releaseURIBase, "URL of the directory holding the archives; VERSION is replaced by -version")
	bot := fs.Bool("krew-release-bot", false, "write the .krew.yaml template of krew-release-bot instead (no checksums or version needed)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() != 0 {
		return errors.New("manifest: -o is required and no arguments are taken")
	}
	data := manifestData{Bot: *bot}
	if *bot {
		data.Version = "{{ .TagName }}"
		for _, p := range platforms {
			name := archiveName(p.os, p.arch, p.ext)
			uri := strings.ReplaceAll(releaseURIBase, "VERSION", "{{ .TagName }}") + "/" + name
			data.Platforms = append(data.Platforms, platform{OS: p.os, Arch: p.arch, Archive: name, URI: uri, Bin: binName(p.os), Core: coreName(p.os)})
		}
	} else {
		if !semverRE.MatchString(*version) {
			return fmt.Errorf("manifest: -version %q is not a semantic version with a leading v, as krew requires", *version)
		}
		sums, err := readChecksums(*checksums)
		if err != nil {
			return err
		}
		data.Version = *version
		base := strings.TrimSuffix(strings.ReplaceAll(*uriBase, "VERSION", *version), "/")
		for _, p := range platforms {
			name := archiveName(p.os, p.arch, p.ext)
			sum, ok := sums[name]
			if !ok {
				return fmt.Errorf("manifest: %s has no checksum for %s (run `make dist` first)", *checksums, name)
			}
			data.Platforms = append(data.Platforms, platform{OS: p.os, Arch: p.arch, Archive: name, URI: base + "/" + name, Sha256: sum, Bin: binName(p.os), Core: coreName(p.os)})
		}
	}
	var buf bytes.Buffer
	if err := manifestTemplate.Execute(&buf, data); err != nil {
		return err
	}
	return writeFile(*out, buf.Bytes())
}

func binName(goos string) string {
	if goos == "windows" {
		return binary + ".exe"
	}
	return binary
}

// coreName is the full CLI's file, which the binary runs for every command it does not serve itself.
func coreName(goos string) string {
	if goos == "windows" {
		return core + ".exe"
	}
	return core
}

// readChecksums reads a sha256sum-format file into archive name → hash.
func readChecksums(path string) (map[string]string, error) {
	if path == "" {
		return nil, errors.New("manifest: -checksums is required")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("manifest: %w (run `make dist` first)", err)
	}
	defer f.Close()
	sums := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok || len(sum) != 64 {
			return nil, fmt.Errorf("manifest: %s: bad line %q", path, sc.Text())
		}
		sums[strings.TrimPrefix(name, "*")] = sum
	}
	return sums, sc.Err()
}

type manifestData struct {
	Bot       bool
	Version   string
	Platforms []platform
}

// manifestTemplate is the krew manifest, without comments since it is copied to krew-index as is. With .Bot it
// is krew-release-bot's template: the bot replaces {{ .TagName }} and expands addURIAndSha into "uri: URL" and
// "sha256: HASH" at the same 4-space indent.
var manifestTemplate = template.Must(template.New("manifest").Delims("[[", "]]").Parse(`apiVersion: krew.googlecontainertools.github.com/v1alpha2
kind: Plugin
metadata:
  name: ` + pluginName + `
spec:
  version: [[ .Version ]]
  homepage: ` + repoURL + `
  shortDescription: Set up, diagnose and test IAM Roles for Service Accounts (IRSA)
  description: |
    Gives pods AWS permissions through IAM Roles for Service Accounts (IRSA) on EKS
    in one step, explains why a pod is using the node's instance role instead,
    and proves end to end that a ServiceAccount can assume its role.

    Subcommands:
      link       create or merge the OIDC provider, role trust, permissions and
                 ServiceAccount annotation in one idempotent, planned step
      unlink     remove a ServiceAccount's trust and annotation (and the role,
                 when kubectl irsa created it and nothing else uses it)
      issuer     print the cluster's OIDC issuer
      provider   create the cluster's IAM OIDC provider
      role       create a role trusted by ServiceAccounts, or print it as
                 Terraform or CloudFormation
      annotate   set a ServiceAccount's eks.amazonaws.com/role-arn annotation
      doctor     explain why a pod does not get the role's credentials
      test       prove that a ServiceAccount can assume its role
      list       list the ServiceAccounts linked to IAM roles
      audit      find broken or over-broad IRSA trust relationships
      version    print the version, commit and build date
  caveats: |
    kubectl irsa calls AWS (IAM, STS, EKS) with the standard AWS SDK
    configuration: AWS_PROFILE or --aws-profile, SSO, or environment
    credentials, and a region (--region, AWS_REGION or the EKS context).

    Shell completion for "kubectl irsa <TAB>" (kubectl 1.26 or later, with
    kubectl's own completion enabled) needs an executable named
    kubectl_complete-irsa on your PATH, for example:
      printf '#!/bin/sh\nexec kubectl irsa __complete "$@"\n' > ~/bin/kubectl_complete-irsa
      chmod +x ~/bin/kubectl_complete-irsa
    See ` + repoURL + `/blob/main/docs/completion.md
  platforms:
[[- range .Platforms ]]
  - selector:
      matchLabels:
        os: [[ .OS ]]
        arch: [[ .Arch ]]
[[- if $.Bot ]]
    {{ addURIAndSha "[[ .URI ]]" .TagName }}
[[- else ]]
    uri: [[ .URI ]]
    sha256: [[ .Sha256 ]]
[[- end ]]
    files:
    - from: [[ .Bin ]]
      to: .
    - from: [[ .Core ]]
      to: .
    - from: LICENSE
      to: .
    bin: [[ .Bin ]]
[[- end ]]
`))
