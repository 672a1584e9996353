package logclass

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

func scanAll(t *testing.T, c *Classifier, r io.Reader) []Finding {
	t.Helper()
	var out []Finding
	if err := c.Scan(r, func(f Finding) { out = append(out, f) }); err != nil {
		t.Fatalf("Scan: %v", err)
	}
	return out
}

type idLine struct {
	id   ID
	line int
}

func summary(fs []Finding) []idLine {
	var s []idLine
	for _, f := range fs {
		s = append(s, idLine{f.ID, f.Line})
	}
	return s
}

func TestScanRecords(t *testing.T) {
	tests := []struct {
		name string
		log  string
		want []idLine
	}{
		{
			name: "java stack trace: one finding for the exception, Caused by repeat dropped",
			log: `2024-05-01 10:00:00.000 ERROR 1 --- [main] c.e.App : Failed to read object
software.amazon.awssdk.services.s3.model.S3Exception: User: arn:aws:sts::123456789012:assumed-role/eks-node/i-0123456789abcdef0 is not authorized to perform: s3:GetObject on resource: "arn:aws:s3:::b/k" (Service: S3, Status Code: 403, Request ID: X)
	at software.amazon.awssdk.core.internal.http.CombinedResponseHandler.handleErrorResponse(CombinedResponseHandler.java:125)
	at com.example.App.main(App.java:10)
Caused by: software.amazon.awssdk.services.s3.model.S3Exception: User: arn:aws:sts::123456789012:assumed-role/eks-node/i-0123456789abcdef0 is not authorized to perform: s3:GetObject on resource: "arn:aws:s3:::b/k" (Service: S3, Status Code: 403, Request ID: X)
	... 12 more
2024-05-01 10:00:01.000 INFO 1 --- [main] c.e.App : retrying
`,
			want: []idLine{{NodeRoleFallback, 2}},
		},
		{
			name: "python traceback: exception line closes the record",
			log: `ERROR:root:upload failed
Traceback (most recent call last):
  File "/app/main.py", line 10, in <module>
    s3.upload_file("a", "b", "c")
  File "/usr/lib/python3/site-packages/botocore/client.py", line 960, in _make_api_call
    raise error_class(parsed_response, operation_name)
botocore.exceptions.ClientError: An error occurred (AccessDenied) when calling the PutObject operation: User: arn:aws:sts::123456789012:assumed-role/eks-node/i-0123456789abcdef0 is not authorized to perform: s3:PutObject on resource: "arn:aws:s3:::b/k"
INFO:root:next
`,
			want: []idLine{{NodeRoleFallback, 1}},
		},
		{
			name: "aws-sdk-go raw newlines: the cause on the continuation line wins",
			log: `E0501 10:00:00.000000       1 controller.go:10] records retrieval failed: WebIdentityErr: failed to retrieve credentials
caused by: AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity
	status code: 403, request id: 5c3f9ce5
I0501 10:00:01.000000       1 controller.go:11] retrying
`,
			want: []idLine{{TrustRejected, 1}},
		},
		{
			name: "generic failure alone is kept",
			log: `E0501 10:00:00.000000       1 controller.go:10] WebIdentityErr: failed to retrieve credentials
I0501 10:00:01.000000       1 controller.go:11] retrying
`,
			want: []idLine{{NoCredentials, 1}},
		},
		{
			name: "identical findings on separate records are all reported",
			log: `AccessDenied: User: arn:aws:sts::1:assumed-role/n/i-0123456789abcdef0 is not authorized to perform: s3:GetObject
info: ok
AccessDenied: User: arn:aws:sts::1:assumed-role/n/i-0123456789abcdef0 is not authorized to perform: s3:GetObject
AccessDenied: User: arn:aws:sts::1:assumed-role/n/i-0123456789abcdef0 is not authorized to perform: s3:GetObject
`,
			want: []idLine{{NodeRoleFallback, 1}, {NodeRoleFallback, 3}, {NodeRoleFallback, 4}},
		},
		{
			name: "crlf line endings and a last line without newline",
			log:  "info: start\r\nbotocore.exceptions.NoCredentialsError: Unable to locate credentials\r\ninfo: x\r\nfatal error: Unable to locate credentials",
			want: []idLine{{NoCredentials, 2}, {NoCredentials, 4}},
		},
		{
			name: "different findings in one record are all reported",
			log: `2024-05-01 ERROR startup failed
java.lang.IllegalStateException: software.amazon.awssdk.core.exception.SdkClientException: Unable to load region from any of the providers in the chain
Caused by: software.amazon.awssdk.core.exception.SdkClientException: Unable to load credentials from any of the providers in the chain AwsCredentialsProviderChain
`,
			want: []idLine{{RegionOrEndpoint, 2}, {NoCredentials, 2}},
		},
	}
	c := &Classifier{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := summary(scanAll(t, c, strings.NewReader(tc.log)))
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// genLog builds a log of n lines where every 97th line is a finding, and
// returns the expected (id, line) pairs from ClassifyLine.
func genLog(n int) (string, []idLine) {
	var b strings.Builder
	var want []idLine
	c := &Classifier{}
	findings := []string{
		`{"level":"error","error":"AccessDenied: User: arn:aws:sts::123456789012:assumed-role/eks-node/i-0%016x is not authorized to perform: s3:GetObject\n\tstatus code: 403"}`,
		`E0501 10:00:00.000000       1 c.go:1] WebIdentityErr: failed to retrieve credentials\ncaused by: AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity (%d)`,
		`2024-05-01 10:00:00,000 ERROR [app] botocore.exceptions.NoCredentialsError: Unable to locate credentials (%d)`,
		`time="x" level=error msg="MissingRegion: could not find region configuration (%d)"`,
	}
	for i := 1; i <= n; i++ {
		var line string
		if i%97 == 0 {
			line = fmt.Sprintf(findings[(i/97)%len(findings)], i)
			f, ok := c.ClassifyLine(line)
			if !ok {
				panic(line)
			}
			want = append(want, idLine{f.ID, i})
		} else {
			line = fmt.Sprintf(`{"level":"info","ts":%d.5,"msg":"reconciled","object":"default/app-%d","region":"us-east-1","url":"https://b.s3.us-east-1.amazonaws.com/k%d"}`, 1714550400+i, i%50, i)
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String(), want
}

// TestScanMatchesClassifyLine checks line numbers and results against
// ClassifyLine over a log larger than several buffers, read in different
// ways (short reads, one byte at a time, data with errors).
func TestScanMatchesClassifyLine(t *testing.T) {
	log, want := genLog(40000) // about 7 MiB
	c := &Classifier{}
	readers := map[string]func() io.Reader{
		"whole":    func() io.Reader { return strings.NewReader(log) },
		"half":     func() io.Reader { return iotest.HalfReader(strings.NewReader(log)) },
		"datatail": func() io.Reader { return iotest.DataErrReader(strings.NewReader(log)) },
		"chunks":   func() io.Reader { return &chunkReader{data: []byte(log), n: 4093} },
	}
	for name, mk := range readers {
		t.Run(name, func(t *testing.T) {
			got := summary(scanAll(t, c, mk()))
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("got %d findings, want %d; first diff at %d", len(got), len(want), firstDiff(got, want))
			}
		})
	}
	t.Run("one byte", func(t *testing.T) {
		small, smallWant := genLog(600)
		got := summary(scanAll(t, c, iotest.OneByteReader(strings.NewReader(small))))
		if fmt.Sprint(got) != fmt.Sprint(smallWant) {
			t.Errorf("got %v, want %v", got, smallWant)
		}
	})
}

type chunkReader struct {
	data []byte
	n    int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	k := copy(p[:min(len(p), r.n)], r.data)
	r.data = r.data[k:]
	return k, nil
}

func firstDiff(a, b []idLine) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestScanLongLines(t *testing.T) {
	finding := "botocore.exceptions.NoCredentialsError: Unable to locate credentials"
	var b bytes.Buffer
	b.WriteString("first line\n")
	// Line 2: 3 MiB, the keyword only after the first MiB: found (in a later window).
	b.WriteString(strings.Repeat("a", 2<<20))
	b.WriteString(finding)
	b.WriteString(strings.Repeat("b", 1<<20))
	b.WriteByte('\n')
	// Line 3: 1.5 MiB with the keyword at the start: found.
	b.WriteString(finding)
	b.WriteString(strings.Repeat(" x", 3<<18))
	b.WriteByte('\n')
	b.WriteString(finding + "\n") // line 4
	c := &Classifier{}
	got := summary(scanAll(t, c, bytes.NewReader(b.Bytes())))
	want := []idLine{{NoCredentials, 2}, {NoCredentials, 3}, {NoCredentials, 4}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", got, want)
	}
	// A log that is one endless line is not an error.
	if err := c.Scan(io.LimitReader(zeroReader{}, 5<<20), func(Finding) {}); err != nil {
		t.Errorf("endless line: %v", err)
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'z'
	}
	return len(p), nil
}

func TestScanReadError(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader("botocore.exceptions.NoCredentialsError: Unable to locate credentials\n"), iotest.ErrReader(boom))
	var got []Finding
	err := (&Classifier{}).Scan(r, func(f Finding) { got = append(got, f) })
	if !errors.Is(err, boom) {
		t.Errorf("err = %v, want boom", err)
	}
	if len(got) != 1 {
		t.Errorf("findings before the error must be emitted, got %d", len(got))
	}
	if err := (&Classifier{}).Scan(strings.NewReader(""), func(Finding) { t.Error("finding in empty input") }); err != nil {
		t.Errorf("empty input: %v", err)
	}
}

// TestCorpusAsOneLog scans the whole corpus as one log, rows separated by
// an unrelated line: every row's finding must come out, numbered with its
// row's line (or the separator's, for rows that are continuation lines such
// as "Caused by:").
func TestCorpusAsOneLog(t *testing.T) {
	rows := loadCorpus(t)
	var b strings.Builder
	var want []idLine
	for i, r := range rows {
		fmt.Fprintf(&b, "I0501 10:00:00.000000       1 sep.go:1] row %d\n%s\n", i, r.line)
		if r.expected != "None" {
			want = append(want, idLine{ID(r.expected), 2*i + 2})
		}
	}
	got := summary(scanAll(t, &Classifier{}, strings.NewReader(b.String())))
	if len(got) != len(want) {
		t.Fatalf("got %d findings, want %d:\n%v\n%v", len(got), len(want), got, want)
	}
	for i := range got {
		if got[i].id != want[i].id || (got[i].line != want[i].line && got[i].line != want[i].line-1) {
			t.Errorf("finding %d: got %v, want %v", i, got[i], want[i])
		}
	}
}

// TestScanEmitPanics checks that a panicking emit neither deadlocks nor
// leaks the prefilter goroutines.
func TestScanEmitPanics(t *testing.T) {
	log, _ := genLog(20000)
	before := runtime.NumGoroutine()
	func() {
		defer func() {
			if recover() == nil {
				t.Error("expected the panic to propagate")
			}
		}()
		(&Classifier{}).Scan(strings.NewReader(log), func(Finding) { panic("stop") })
	}()
	noGoroutineLeft(t, before)
}

// noGoroutineLeft waits up to 5 s for the goroutines to be no more than before.
func noGoroutineLeft(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines left, %d before", n, before)
	}
}

// TestScanStreaming checks that findings are emitted as soon as a slow
// stream has no more data, not when a block fills up.
func TestScanStreaming(t *testing.T) {
	pr, pw := io.Pipe()
	got := make(chan Finding, 1)
	done := make(chan error, 1)
	go func() {
		done <- (&Classifier{}).Scan(pr, func(f Finding) { got <- f })
	}()
	if _, err := pw.Write([]byte("info: starting\nbotocore.exceptions.NoCredentialsError: Unable to locate credentials\n")); err != nil {
		t.Fatal(err)
	}
	select {
	case f := <-got:
		if f.ID != NoCredentials || f.Line != 2 {
			t.Errorf("got %+v", f)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("finding not emitted while the stream is open")
	}
	pw.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
