package logclass

import (
	"bytes"
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"testing"
)

// searchLog returns a log of ordinary short and long lines mixed with lines
// holding each keyword at every alignment to 8 bytes (at the start, in the
// middle and at the end of a line), near misses (a keyword with its last
// byte changed, "amazonaws.com" where it does not count), and lines longer
// than maxLineBytes with keywords inside, at a window's end and at the end.
func searchLog() []byte {
	rng := rand.New(rand.NewSource(7))
	harmless, matching := benchLines(rng)
	short, _ := shortLines(rng)
	harmless = append(harmless, short...)
	var b bytes.Buffer
	filler := func(n int) {
		for range n {
			b.WriteString(harmless[rng.Intn(len(harmless))])
			b.WriteByte('\n')
		}
	}
	for _, k := range append(slices.Clone(keywords), "sts.us-east-1.amazonaws.com", "lookup s3.eu-west-1.amazonaws.com", "eks.amazonaws.com/serviceaccount") {
		for pad := range 8 {
			filler(rng.Intn(40))
			p := strings.Repeat("p", pad)
			fmt.Fprintf(&b, "%s%s\n", p, k)                                       // at the end
			fmt.Fprintf(&b, "%s%s ok\n", p, k)                                    // in the middle
			fmt.Fprintf(&b, "%s%s\n", k, p)                                       // at the start
			fmt.Fprintf(&b, "%s%s#\n", p, k[:len(k)-1])                           // a near miss
			fmt.Fprintf(&b, "%s%s %s\n", p, harmless[rng.Intn(len(harmless))], k) // after a long prefix
		}
	}
	for _, m := range matching {
		filler(rng.Intn(200))
		b.WriteString(m + "\n")
	}
	// Lines longer than maxLineBytes: keywords in the middle, straddling
	// the end of the first window, and at the end without a newline.
	long := bytes.Repeat([]byte(`{"k":"v"} `), (3<<20)/10)
	copy(long[1<<19:], "Unable to locate credentials")
	copy(long[maxLineBytes-6:], "WebIdentityErr")
	b.Write(long)
	b.WriteByte('\n')
	filler(3000)
	b.Write(long[:maxLineBytes+5])
	b.WriteString(" ENOTFOUND\n")
	filler(3000)
	b.Write(long)
	b.WriteString("EC2 IMDS")
	return b.Bytes()
}

// cutBlocks cuts data as Scan does: blocks of whole lines of about size
// bytes, a line longer than maxLineBytes in windows of maxLineBytes that
// overlap by windowOverlap.
func cutBlocks(data []byte, size int) [][]byte {
	var blocks [][]byte
	for done := 0; done < len(data); {
		end := min(done+size, len(data))
		next := end
		if end < len(data) {
			lineStart := bytes.LastIndexByte(data[done:end], '\n') + 1 + done
			limit := min(len(data), lineStart+maxLineBytes+1)
			if k := bytes.IndexByte(data[end:limit], '\n'); k >= 0 {
				end += k + 1
			} else if limit == len(data) && len(data)-lineStart <= maxLineBytes {
				end = len(data)
			} else if lineStart > done {
				end = lineStart
			} else {
				end = done + maxLineBytes
			}
			next = end
			if end == done+maxLineBytes && bytes.IndexByte(data[done:end], '\n') < 0 {
				next = end - windowOverlap
			}
		}
		blocks = append(blocks, data[done:end])
		done = next
	}
	return blocks
}

// linesWithKeyword is the per-line path: the start of every line of block
// that holds a keyword (by its plain definition).
func linesWithKeyword(block []byte) []int {
	var starts []int
	for ls := 0; ls < len(block); {
		le := len(block)
		if e := bytes.IndexByte(block[ls:], '\n'); e >= 0 {
			le = ls + e + 1
		}
		if hasKeywordSlow(string(block[ls:le])) {
			starts = append(starts, ls)
		}
		ls = le
	}
	return starts
}

// TestBlockSearchMatchesLines: the block search picks exactly the lines the
// per-line path picks, whatever the sample the search was built from (so
// whichever words it looks for), wherever the blocks are cut, whatever the
// alignment of each keyword, and in lines longer than a block or than
// maxLineBytes (in windows).
func TestBlockSearchMatchesLines(t *testing.T) {
	if testing.Short() {
		t.Skip("searches a 14 MiB log many times")
	}
	data := searchLog()
	keywordHeavy := []byte(strings.Join(keywords, "\n"))
	samples := map[string][]byte{
		"no sample":     nil,
		"the log":       data[:sampleBytes],
		"keywords only": keywordHeavy,
		"one line":      data[:200],
	}
	for name, sample := range samples {
		pf := newPrefilter(sample)
		for _, size := range []int{4<<10 + 3, 64 << 10, bufBytes} {
			t.Run(fmt.Sprintf("%s/%d", name, size), func(t *testing.T) {
				blocks := cutBlocks(data, size)
				total := 0
				for i, block := range blocks {
					got, want := pf.find(block), linesWithKeyword(block)
					total += len(want)
					if !slices.Equal(got, want) {
						t.Fatalf("block %d (%d bytes): search found lines at %v, the per-line path at %v", i, len(block), head(got), head(want))
					}
				}
				if total < 5*len(keywords) {
					t.Fatalf("only %d lines with a keyword: the log is not what the test means", total)
				}
			})
		}
		// Every line alone as a block, without its newline: a keyword at
		// the very end of a block.
		for line := range strings.SplitSeq(string(data[:len(data)-3<<20]), "\n") {
			got, want := len(pf.find([]byte(line))) > 0, hasKeywordSlow(line)
			if got != want {
				t.Fatalf("%s: the search says %v, the per-line path %v for the block %.200q", name, got, want, line)
			}
		}
	}
}

func head(s []int) []int { return s[:min(len(s), 20)] }
