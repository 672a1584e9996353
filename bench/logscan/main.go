// Command logscan runs logclass.Classifier.Scan over a log file into a
// logclass.Collector and prints the number of records per id, the merged
// findings, the throughput in MiB/s and the peak memory (the kernel's VmHWM
// where there is one, else the Go runtime's figures). bench/logs.sh runs it
// beside grep and kubectl irsa doctor.
//
//	go run ./bench/logscan FILE
package main

import (
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/logclass"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: logscan FILE")
		os.Exit(2)
	}
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}

	c := &logclass.Classifier{}
	counts := map[logclass.ID]int{}
	var col logclass.Collector
	start := time.Now()
	if err := c.Scan(f, func(x logclass.Finding) { counts[x.ID]++; col.Add(x) }); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	elapsed := time.Since(start)

	ids := make([]string, 0, len(counts))
	total := 0
	for id, n := range counts {
		ids = append(ids, string(id))
		total += n
	}
	sort.Strings(ids)
	for _, id := range ids {
		fmt.Printf("%-18s %d\n", id, counts[logclass.ID(id)])
	}
	mib := float64(st.Size()) / (1 << 20)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("findings %d (records), %d merged by identity\n", total, len(col.Findings()))
	fmt.Printf("scanned %.1f MiB in %s: %.0f MiB/s\n", mib, elapsed.Round(time.Millisecond), mib/elapsed.Seconds())
	fmt.Printf("go runtime: sys %.1f MiB, heap in use %.1f MiB, total allocated %.1f MiB\n",
		float64(ms.Sys)/(1<<20), float64(ms.HeapInuse)/(1<<20), float64(ms.TotalAlloc)/(1<<20))
	if kib, ok := peakRSSKiB(); ok {
		fmt.Printf("peak_rss_kib %d VmHWM\n", kib)
	} else {
		fmt.Printf("peak_rss_kib %d go-runtime-sys\n", ms.Sys>>10)
	}
}

// peakRSSKiB reads the process's peak resident set size from
// /proc/self/status (Linux).
func peakRSSKiB() (uint64, bool) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kib uint64
			if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kib); err == nil {
				return kib, true
			}
		}
	}
	return 0, false
}
