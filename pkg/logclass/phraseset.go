package logclass

import (
	"strings"
)

// phraseSet finds the first of many lowercase phrases in a line in one pass:
// each phrase is registered under a hash of its first four bytes, so a line
// is read once and only positions whose four bytes start some phrase are
// compared (two-byte hashes let common pairs such as "er" through). The few
// phrases shorter than four bytes are looked for one by one. It replaces one
// strings.Index per phrase on long phrase lists.
type phraseSet struct {
	phrases []string
	// byBucket[start[h]:start[h+1]] are the indexes of the phrases in
	// bucket h, in list order (one flat array: a set costs a few KiB, not a
	// slice header per bucket).
	start    [phraseBuckets + 1]uint16
	byBucket []uint16
	any      [phraseBuckets / 64]uint64
	// short are the indexes of the phrases shorter than four bytes.
	short []uint16
}

const phraseBuckets = 1 << 12

// phraseHash maps the four bytes of s at i to a bucket.
func phraseHash(s string, i int) uint32 {
	w := uint32(s[i]) | uint32(s[i+1])<<8 | uint32(s[i+2])<<16 | uint32(s[i+3])<<24
	return w * 0x9E3779B1 >> 20
}

// newPhraseSet builds a set from phrase lists (each phrase at least two
// bytes long). Phrases match as written: the rules' lists are lowercase
// and run on the lowercased line.
func newPhraseSet(lists ...[]string) *phraseSet {
	ps := &phraseSet{}
	for _, list := range lists {
		ps.phrases = append(ps.phrases, list...)
	}
	var count [phraseBuckets]uint16
	long := 0
	for i, p := range ps.phrases {
		switch {
		case len(p) < 2:
			panic("logclass: phrase shorter than two bytes: " + p)
		case len(p) < 4:
			ps.short = append(ps.short, uint16(i))
			continue
		}
		h := phraseHash(p, 0)
		count[h]++
		ps.any[h>>6] |= 1 << (h & 63)
		long++
	}
	for h := range phraseBuckets {
		ps.start[h+1] = ps.start[h] + count[h]
	}
	ps.byBucket = make([]uint16, long)
	next := ps.start
	for i, p := range ps.phrases {
		if len(p) < 4 {
			continue
		}
		h := phraseHash(p, 0)
		ps.byBucket[next[h]] = uint16(i)
		next[h]++
	}
	return ps
}

// index returns the offset of the first phrase occurring in l (the
// earliest; at equal offsets the first in list order), or -1.
func (ps *phraseSet) index(l string) int {
	best := -1
scan:
	for i := 0; i+3 < len(l); i++ {
		h := phraseHash(l, i)
		if ps.any[h>>6]>>(h&63)&1 == 0 {
			continue
		}
		for _, k := range ps.bucket(h) {
			if strings.HasPrefix(l[i:], ps.phrases[k]) {
				best = i
				break scan
			}
		}
	}
	for _, k := range ps.short {
		if i := strings.Index(l, ps.phrases[k]); i >= 0 && (best < 0 || i < best) {
			best = i
		}
	}
	return best
}

// bucket returns the indexes of the phrases in bucket h.
func (ps *phraseSet) bucket(h uint32) []uint16 { return ps.byBucket[ps.start[h]:ps.start[h+1]] }

func (ps *phraseSet) contains(l string) bool { return ps.index(l) >= 0 }

// mark sets seen[k] for every phrase k occurring in l.
func (ps *phraseSet) mark(l string, seen []bool) {
	ps.each(l, func(k int) { seen[k] = true })
}

// each calls f(k) for every occurrence in l of every phrase k (those of the
// phrases shorter than four bytes last).
func (ps *phraseSet) each(l string, f func(k int)) {
	for i := 0; i+3 < len(l); i++ {
		h := phraseHash(l, i)
		if ps.any[h>>6]>>(h&63)&1 == 0 {
			continue
		}
		for _, k := range ps.bucket(h) {
			if strings.HasPrefix(l[i:], ps.phrases[k]) {
				f(int(k))
			}
		}
	}
	for _, k := range ps.short {
		p := ps.phrases[k]
		for rest := l; ; {
			i := strings.Index(rest, p)
			if i < 0 {
				break
			}
			f(int(k))
			rest = rest[i+1:]
		}
	}
}
