package safetext

import "unicode/utf8"

// JSON returns JSON text b (as encoding/json writes it) with every raw
// character that YAML refuses or that a terminal would interpret replaced
// by its \uXXXX escape: DEL, C1 controls, bidi formatting characters,
// U+2028, U+2029, U+FEFF, U+FFFE and U+FFFF (encoding/json already escapes
// C0 controls). Such characters can only occur inside JSON strings, so the
// result is valid JSON with the same values, and
// sigs.k8s.io/yaml.JSONToYAML(JSON(b)) never fails with "control characters
// are not allowed" (which is how one U+009B in a log line made -o yaml exit
// 2). Invalid UTF-8 bytes become \ufffd. b is returned as is when nothing
// needs escaping.
//
// This is the safety net for -o json and -o yaml printers; the values from
// a cluster, AWS or a log are redacted with Data (or Redact) before.
func JSON(b []byte) []byte {
	i := 0
	for i < len(b) && b[i] < 0x7f {
		i++
	}
	if i == len(b) {
		return b
	}
	var out []byte // nil until the first escape
	last := 0
	for i < len(b) {
		c := b[i]
		if c < 0x7f {
			i++
			continue
		}
		var r rune
		size := 1
		switch {
		case c == 0x7f:
			r = 0x7f
		default:
			r, size = utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				r = utf8.RuneError
			} else if !needsEscape(r) {
				i += size
				continue
			}
		}
		if out == nil {
			out = make([]byte, 0, len(b)+32)
		}
		out = append(out, b[last:i]...)
		out = append(out, '\\', 'u', hexDigits[r>>12&15], hexDigits[r>>8&15], hexDigits[r>>4&15], hexDigits[r&15])
		i += size
		last = i
	}
	if out == nil {
		return b
	}
	return append(out, b[last:]...)
}
