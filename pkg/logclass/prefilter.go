package logclass

import (
	"bytes"
	"encoding/binary"
	"sync"
)

// The prefilter finds the lines of a block that contain a keyword without
// looking at lines one by one. Each keyword (at least 7 bytes long) is
// represented by four overlapping 4-byte words at positions j..j+3, chosen
// to be rare in the log being scanned: whatever the alignment of an occurrence,
// one of the four is 4-byte aligned. The block is read 8 bytes at a time as
// two aligned words, each hashed into a 64 KiB byte table (bytes, not
// bits: a variable shift per lookup costs more than the bigger table); only on a hit (rare)
// are the keywords registered for that word compared in full. This is a
// handful of instructions per 8 bytes, with no per-line work.

// wordKW is a keyword, one of its chosen words and the word's offset in it.
type wordKW struct {
	kw  string
	w   uint32
	off int
}

// prefilter is an immutable word table chosen for one part of a log.
type prefilter struct {
	table [1 << hashBits]byte // 1 at wordHash(w) for every chosen word
	// slot[slotOf(h)] is 1 + the index in kws of the chosen words whose
	// hash h has those low bits.
	slot [1 << slotBits]uint16
	kws  [][]wordKW
}

// hashBits is the size of the table's index.
const hashBits = 16

// slotBits is the size of the index of the keyword lists, looked up only
// on a table hit.
const slotBits = 12

// slotOf maps a word's table index to its keyword list's index.
func slotOf(h uint32) uint32 { return h & (1<<slotBits - 1) }

// wordHash maps a 4-byte word (little endian) to an entry of the table.
func wordHash(w uint32) uint32 { return (w * 0x9E3779B1) >> (32 - hashBits) }

func wordAt(s string, i int) uint32 {
	return uint32(s[i]) | uint32(s[i+1])<<8 | uint32(s[i+2])<<16 | uint32(s[i+3])<<24
}

// minKeywordLen is the shortest keyword the prefilter can represent.
const minKeywordLen = 7

// keywordWords indexes the distinct 4-byte words of the keywords by
// wordHash, for counting them in a sample without a map lookup per
// position: head[slotOf(h)] is 1 + the index in words of the first word
// whose hash h has those low bits,
// next[i] 1 + the index of the next one.
type keywordWords struct {
	words []uint32
	head  [1 << slotBits]int32
	next  []int32
}

var kwWords = sync.OnceValue(func() *keywordWords {
	kw := &keywordWords{}
	seen := map[uint32]bool{}
	for _, k := range keywords {
		for j := 0; j+4 <= len(k); j++ {
			w := wordAt(k, j)
			if seen[w] {
				continue
			}
			seen[w] = true
			h := slotOf(wordHash(w))
			kw.words = append(kw.words, w)
			kw.next = append(kw.next, kw.head[h])
			kw.head[h] = int32(len(kw.words))
		}
	}
	return kw
})

// index returns the index of w in words, or -1.
func (kw *keywordWords) index(w uint32) int {
	for k := kw.head[slotOf(wordHash(w))]; k != 0; k = kw.next[k-1] {
		if kw.words[k-1] == w {
			return int(k - 1)
		}
	}
	return -1
}

// newPrefilter picks, for every keyword, the four consecutive words that
// are rarest (together) in sample.
func newPrefilter(sample []byte) *prefilter {
	// Count in sample only the words that occur in keywords.
	kw := kwWords()
	counts := make([]int, len(kw.words))
	for i := 0; i+4 <= len(sample); i++ {
		w := binary.LittleEndian.Uint32(sample[i:])
		for k := kw.head[slotOf(wordHash(w))]; k != 0; k = kw.next[k-1] {
			if kw.words[k-1] == w {
				counts[k-1]++
				break
			}
		}
	}
	freq := func(w uint32) int {
		if i := kw.index(w); i >= 0 {
			return counts[i]
		}
		return 0
	}
	pf := &prefilter{}
	for _, k := range keywords {
		best, bestCost := 0, -1
		for j := 0; j+minKeywordLen <= len(k); j++ {
			cost := 0
			for d := 0; d < 4; d++ {
				cost += freq(wordAt(k, j+d))
			}
			if bestCost < 0 || cost < bestCost {
				best, bestCost = j, cost
			}
		}
		for off := best; off < best+4; off++ {
			w := wordAt(k, off)
			h := wordHash(w)
			pf.table[h] = 1
			sh := slotOf(h)
			if pf.slot[sh] == 0 {
				pf.kws = append(pf.kws, nil)
				pf.slot[sh] = uint16(len(pf.kws))
			}
			pf.kws[pf.slot[sh]-1] = append(pf.kws[pf.slot[sh]-1], wordKW{k, w, off})
		}
	}
	return pf
}

// find returns the start offsets of the lines of data that contain a
// keyword, in increasing order.
func (pf *prefilter) find(data []byte) []int {
	var cands []int
	t := &pf.table
	n := len(data)
	for i := 0; ; {
		// Fast scan: two table lookups per 8 bytes until one hits, 32
		// bytes per iteration.
		for i+32 <= n {
			b := data[i : i+32 : i+32]
			x0, x1 := binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[8:])
			x2, x3 := binary.LittleEndian.Uint64(b[16:]), binary.LittleEndian.Uint64(b[24:])
			h0, h1, h2, h3 := wordHash(uint32(x0)), wordHash(uint32(x0>>32)), wordHash(uint32(x1)), wordHash(uint32(x1>>32))
			h4, h5, h6, h7 := wordHash(uint32(x2)), wordHash(uint32(x2>>32)), wordHash(uint32(x3)), wordHash(uint32(x3>>32))
			if t[h0]|t[h1]|t[h2]|t[h3]|t[h4]|t[h5]|t[h6]|t[h7] != 0 {
				break
			}
			i += 32
		}
		for i+8 <= n {
			x := binary.LittleEndian.Uint64(data[i:])
			h0, h1 := wordHash(uint32(x)), wordHash(uint32(x>>32))
			if t[h0]|t[h1] != 0 {
				break
			}
			i += 8
		}
		if i+4 > n {
			return cands
		}
		// A hit in the group at i (or the tail): check its words.
		next := i + 8
		for p := i; p < next && p+4 <= n; p += 4 {
			w := binary.LittleEndian.Uint32(data[p:])
			if t[wordHash(w)] == 0 {
				continue
			}
			if st, ok := pf.matchAt(data, p, w); ok {
				cands = append(cands, bytes.LastIndexByte(data[:st], '\n')+1)
				// The line is a candidate: continue after it.
				next = n
				if e := bytes.IndexByte(data[p:], '\n'); e >= 0 {
					next = p + e + 1
				}
				break
			}
		}
		i = next
	}
}

// hasKeyword reports whether line contains a keyword: the same test as
// find, for one line held in a string.
func (pf *prefilter) hasKeyword(line string) bool {
	t := &pf.table
	for p := 0; p+4 <= len(line); p += 4 {
		w := wordAt(line, p)
		if t[wordHash(w)] == 0 {
			continue
		}
		for _, wk := range pf.kws[pf.slot[slotOf(wordHash(w))]-1] {
			if wk.w == w && keywordAt(line, p-wk.off, wk.kw) {
				return true
			}
		}
	}
	return false
}

// matchAt reports whether a keyword registered for word w occurs with that
// word at p, and where the keyword starts.
func (pf *prefilter) matchAt(data []byte, p int, w uint32) (int, bool) {
	for _, wk := range pf.kws[pf.slot[slotOf(wordHash(w))]-1] {
		if st := p - wk.off; wk.w == w && keywordAt(data, st, wk.kw) {
			return st, true
		}
	}
	return 0, false
}
