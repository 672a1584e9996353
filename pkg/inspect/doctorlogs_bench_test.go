package inspect

import (
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// matchingLines generates n AccessDenied lines, each from another session (as many pods would log them).
type matchingLines struct {
	n, i int
	buf  []byte
}

func (m *matchingLines) Read(p []byte) (int, error) {
	for len(m.buf) == 0 {
		if m.i == m.n {
			return 0, io.EOF
		}
		m.buf = fmt.Appendf(nil, "E0501 10:00:00.000000 1 aws_manager.go:148] cannot autodiscover ASGs: AccessDenied: User: arn:aws:sts::123456789012:assumed-role/cluster-autoscaler/botocore-session-%d is not authorized to perform: autoscaling:DescribeTags AKIAIOSFODNN7EXAMPLE\n", m.i)
		m.i++
	}
	n := copy(p, m.buf)
	m.buf = m.buf[n:]
	return n, nil
}

// BenchmarkDoctorLogsMillionLines is `doctor --logs-file` on 1,000,000 matching lines: linear time, flat memory
// (peak-heap-MB is the largest live heap sampled during the run).
func BenchmarkDoctorLogsMillionLines(b *testing.B) {
	const lines = 1_000_000
	for b.Loop() {
		var peak atomic.Uint64
		stop := make(chan struct{})
		go func() {
			var ms runtime.MemStats
			for {
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > peak.Load() {
					peak.Store(ms.HeapInuse)
				}
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
		}()
		report, err := DoctorLogsOnly(&matchingLines{n: lines}, "bench")
		close(stop)
		if err != nil {
			b.Fatal(err)
		}
		if len(report.Findings) == 0 || !strings.Contains(strings.Join(report.Findings[0].Evidence, " "), "999999 more lines like it") {
			b.Fatalf("findings: %+v", report.Findings)
		}
		b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MB")
	}
}
