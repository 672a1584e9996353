package logclass

import (
	"bytes"
	"fmt"
	"io"
	"math/rand"
	"runtime"
	"testing"
)

// benchLines returns a pool of ordinary log lines (klog, JSON, logfmt,
// access log, Java, Python, stack frames) and of lines with a finding.
func benchLines(rng *rand.Rand) (harmless, matching []string) {
	hex := func(n int) string {
		const digits = "0123456789abcdef"
		b := make([]byte, n)
		for i := range b {
			b[i] = digits[rng.Intn(16)]
		}
		return string(b)
	}
	for i := 0; i < 2000; i++ {
		switch i % 8 {
		case 0, 1:
			harmless = append(harmless, fmt.Sprintf(`I0501 10:%02d:%02d.%06d       1 controller.go:148] "Reconcile successful" object="default/web-%s" reconcileID="%s" duration="%d.%dms"`,
				rng.Intn(60), rng.Intn(60), rng.Intn(1e6), hex(5), hex(8), rng.Intn(300), rng.Intn(10)))
		case 2, 3:
			harmless = append(harmless, fmt.Sprintf(`{"level":"info","ts":%d.%d,"logger":"controller.ingress","msg":"successfully deployed model","namespace":"payments","name":"api-%s","region":"eu-west-1","requestID":"%s-%s"}`,
				1714550400+rng.Intn(1e6), rng.Intn(1e6), hex(6), hex(8), hex(4)))
		case 4:
			harmless = append(harmless, fmt.Sprintf(`10.0.%d.%d - - [01/May/2024:10:00:%02d +0000] "GET /api/v1/items/%d HTTP/1.1" 200 %d "-" "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)" 0.0%d`,
				rng.Intn(255), rng.Intn(255), rng.Intn(60), rng.Intn(99999), rng.Intn(50000), rng.Intn(99)))
		case 5:
			harmless = append(harmless, fmt.Sprintf(`time="2024-05-01T10:00:%02dZ" level=info msg="Fetching object s3://assets/%s.tar.gz from https://assets.s3.eu-west-1.amazonaws.com"`,
				rng.Intn(60), hex(10)))
		case 6:
			harmless = append(harmless, fmt.Sprintf(`2024-05-01 10:00:%02d.%03d  INFO 1 --- [nio-8080-exec-%d] c.e.shop.web.OrderController : Processed order %d for customer %d in %d ms`,
				rng.Intn(60), rng.Intn(1000), rng.Intn(10), rng.Intn(99999), rng.Intn(9999), rng.Intn(90)))
		default:
			harmless = append(harmless, fmt.Sprintf("\tat com.example.shop.service.PaymentService.charge(PaymentService.java:%d)", rng.Intn(900)))
		}
	}
	for i := 0; i < 50; i++ {
		matching = append(matching,
			fmt.Sprintf(`{"level":"error","logger":"controller.ingress","msg":"Reconciler error","error":"AccessDenied: User: arn:aws:sts::123456789012:assumed-role/eksctl-prod-nodegroup-NodeInstanceRole-%s/i-0%s is not authorized to perform: elasticloadbalancing:DescribeLoadBalancers\n\tstatus code: 403, request id: %s"}`, hex(8), hex(16), hex(8)),
			fmt.Sprintf(`time="2024-05-01T10:00:00Z" level=error msg="records retrieval failed: WebIdentityErr: failed to retrieve credentials\ncaused by: AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity\n\tstatus code: 403, request id: %s"`, hex(8)),
			fmt.Sprintf(`E0501 10:00:00.000000       1 aws_manager.go:148] cannot autodiscover ASGs: AccessDenied: User: arn:aws:sts::123456789012:assumed-role/cluster-autoscaler/botocore-session-%d is not authorized to perform: autoscaling:DescribeTags`, rng.Intn(1e9)),
			"botocore.exceptions.NoCredentialsError: Unable to locate credentials",
		)
	}
	return harmless, matching
}

// genBenchLog writes about size bytes of log to w: mostly harmless lines,
// one line in 500 with a finding.
func genBenchLog(w io.Writer, size int, seed int64) {
	rng := rand.New(rand.NewSource(seed))
	harmless, matching := benchLines(rng)
	buf := make([]byte, 0, 64<<10)
	for n := 0; n < size; {
		line := harmless[rng.Intn(len(harmless))]
		if rng.Intn(500) == 0 {
			line = matching[rng.Intn(len(matching))]
		}
		buf = append(buf, line...)
		buf = append(buf, '\n')
		n += len(line) + 1
		if len(buf) > 60<<10 {
			w.Write(buf)
			buf = buf[:0]
		}
	}
	w.Write(buf)
}

func benchLog(size int) []byte {
	var b bytes.Buffer
	genBenchLog(&b, size, 1)
	return b.Bytes()
}

// BenchmarkScan measures Scan's throughput (MB/s) on a 32 MiB log.
func BenchmarkScan(b *testing.B) {
	data := benchLog(32 << 20)
	c := &Classifier{}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	findings := 0
	for b.Loop() {
		findings = 0
		if err := c.Scan(bytes.NewReader(data), func(Finding) { findings++ }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(findings), "findings/op")
}

// BenchmarkScanHarmless measures Scan on a log without any finding.
func BenchmarkScanHarmless(b *testing.B) {
	rng := rand.New(rand.NewSource(2))
	harmless, _ := benchLines(rng)
	var buf bytes.Buffer
	for buf.Len() < 32<<20 {
		buf.WriteString(harmless[rng.Intn(len(harmless))])
		buf.WriteByte('\n')
	}
	data := buf.Bytes()
	c := &Classifier{}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Scan(bytes.NewReader(data), func(Finding) { b.Fatal("unexpected finding") }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkClassifyLine measures one line with a finding.
func BenchmarkClassifyLine(b *testing.B) {
	line := `{"level":"error","ts":1651073143.6192567,"logger":"controller-runtime.manager.controller.ingress","msg":"Reconciler error","error":"AccessDenied: User: arn:aws:sts::123456789012:assumed-role/worker-group-eks-node-group-20220427070929725900000001/i-015251056f40ce440 is not authorized to perform: elasticloadbalancing:DescribeLoadBalancers because no identity-based policy allows the elasticloadbalancing:DescribeLoadBalancers action\n\tstatus code: 403, request id: 89923814-caf4-46d6-af29-eb5650d91017"}`
	c := &Classifier{}
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := c.ClassifyLine(line); !ok {
			b.Fatal("no finding")
		}
	}
}

// BenchmarkClassifyLineHarmless measures one ordinary line (no keyword).
func BenchmarkClassifyLineHarmless(b *testing.B) {
	line := `{"level":"info","ts":1715511002.727215,"logger":"backend-sg-provider","msg":"cache hit","namespace":"payments","name":"checkout-2e3599","region":"us-east-1","requestID":"e00354a7-d2d6-371fba772aeb","latency":0.840}`
	c := &Classifier{}
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := c.ClassifyLine(line); ok {
			b.Fatal("finding")
		}
	}
}

// allocatedBy returns the bytes and objects allocated while f runs.
func allocatedBy(f func()) (bytes, objects uint64) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc, after.Mallocs - before.Mallocs
}

// TestScanAllocationPerMiB checks memory stays flat in the size of the
// log: going from an 8 MiB to a 40 MiB log (streamed, never held in
// memory) adds only the per-finding allocations, not buffers.
func TestScanAllocationPerMiB(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 48 MiB of log")
	}
	c := &Classifier{}
	scan := func(size int) (uint64, uint64, int) {
		findings := 0
		pr, pw := io.Pipe()
		go func() {
			genBenchLog(pw, size, 3)
			pw.Close()
		}()
		b, o := allocatedBy(func() {
			if err := c.Scan(pr, func(Finding) { findings++ }); err != nil {
				t.Error(err)
			}
		})
		return b, o, findings
	}
	scan(1 << 20) // warm up (one-time initialisation)
	b8, o8, f8 := scan(8 << 20)
	b40, o40, f40 := scan(40 << 20)
	perMiB := (float64(b40) - float64(b8)) / 32
	objPerMiB := (float64(o40) - float64(o8)) / 32
	perFinding := (float64(b40) - float64(b8)) / float64(max(1, f40-f8))
	t.Logf("Scan allocates %.0f B and %.0f objects per MiB of log (%.0f B per finding, %d findings in 40 MiB; fixed %.1f MiB for buffers)",
		perMiB, objPerMiB, perFinding, f40, float64(b8)/(1<<20))
	// The generator runs in another goroutine but allocates nothing per
	// line; the budget is per finding (~40 per MiB here) plus per block.
	if perMiB > 512<<10 {
		t.Errorf("%.0f bytes allocated per MiB of log: memory is not flat", perMiB)
	}
	if b8 > 32<<20 {
		t.Errorf("%d bytes allocated for an 8 MiB log", b8)
	}
}

// shortLines returns a pool of short ordinary lines (klog, JSON health
// checks, access lines of 80-100 bytes) and of short lines with a finding.
func shortLines(rng *rand.Rand) (harmless, matching []string) {
	for i := 0; i < 3000; i++ {
		switch i % 3 {
		case 0:
			harmless = append(harmless, fmt.Sprintf(`I0501 10:%02d:%02d.%06d       1 reflector.go:351] Caches populated for *v1.Pod from pkg/mod`,
				rng.Intn(60), rng.Intn(60), rng.Intn(1e6)))
		case 1:
			harmless = append(harmless, fmt.Sprintf(`{"level":"info","ts":%d.%03d,"msg":"health check ok","status":200,"ms":%d}`,
				1714550400+rng.Intn(1e6), rng.Intn(1000), rng.Intn(40)))
		default:
			harmless = append(harmless, fmt.Sprintf(`10.0.%d.%d - - [01/May/2024:10:00:%02d +0000] "GET /healthz HTTP/1.1" 200 %d "-" "kube-probe/1.29"`,
				rng.Intn(255), rng.Intn(255), rng.Intn(60), rng.Intn(5000)))
		}
	}
	for i := 0; i < 50; i++ {
		matching = append(matching,
			fmt.Sprintf(`E0501 10:00:00.000000       1 aws.go:148] AccessDenied: User: arn:aws:sts::123456789012:assumed-role/cluster-autoscaler/botocore-session-%d is not authorized to perform: autoscaling:DescribeTags`, rng.Intn(1e9)),
			"botocore.exceptions.NoCredentialsError: Unable to locate credentials",
		)
	}
	return harmless, matching
}

// BenchmarkScanShortLines measures Scan's throughput on a 32 MiB log of
// short lines (about 90 bytes), one in 500 with a finding: the cost per
// line, not per byte, shows here.
func BenchmarkScanShortLines(b *testing.B) {
	rng := rand.New(rand.NewSource(4))
	harmless, matching := shortLines(rng)
	var buf bytes.Buffer
	for buf.Len() < 32<<20 {
		line := harmless[rng.Intn(len(harmless))]
		if rng.Intn(500) == 0 {
			line = matching[rng.Intn(len(matching))]
		}
		buf.WriteString(line)
		buf.WriteByte('\n')
	}
	data := buf.Bytes()
	c := &Classifier{}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	findings := 0
	for b.Loop() {
		findings = 0
		if err := c.Scan(bytes.NewReader(data), func(Finding) { findings++ }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(findings), "findings/op")
}
