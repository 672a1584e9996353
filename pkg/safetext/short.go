package safetext

import "unicode/utf8"

// Ellipsis ends text that Short cut.
const Ellipsis = "…"

// Short is String cut to at most max runes (the last being Ellipsis when cut): for text from a cluster, AWS or a
// log shown in a line of human output or a completion description, where a 100 KB annotation value must neither
// flood the terminal nor be padded into every row.
func Short(s string, max int) string {
	if max < 1 {
		max = 1
	}
	// Escape at most what can be shown: a huge value is not redacted and escaped whole first.
	if cut := 4*max + 64; len(s) > cut {
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	out := String(s)
	if utf8.RuneCountInString(out) <= max {
		return out
	}
	n := 0
	for i := range out {
		if n == max-1 {
			return out[:i] + Ellipsis
		}
		n++
	}
	return out
}
