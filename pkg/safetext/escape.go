package safetext

import (
	"unicode/utf8"
)

// Terminal returns s with everything a terminal could interpret replaced by
// a visible escape, so that text from a cluster, AWS or a log cannot move the
// cursor, change colours, set the window title or reorder what is shown:
//
//   - C0 controls (U+0000-U+001F, tab and newline included) and DEL:
//     "\t", "\n", "\r", else "\x1b";
//   - C1 controls (U+0080-U+009F, e.g. the single-character CSI U+009B):
//     "\u009b";
//   - bidirectional formatting (U+061C, U+200E, U+200F, U+202A-U+202E,
//     U+2066-U+2069), line and paragraph separators (U+2028, U+2029), the
//     byte order mark U+FEFF and the non-characters U+FFFE, U+FFFF: "\u202e";
//   - each byte of invalid UTF-8: "\xff".
//
// Printable characters and the space are kept; backslashes are not doubled
// (the escapes are for reading, not for decoding), so Terminal is
// idempotent. The result is always valid UTF-8.
func Terminal(s string) string { return escape(s, false) }

// String prepares text from a cluster, AWS or a log for human output:
// Terminal(Redact(s)).
func String(s string) string { return escape(Redact(s), false) }

// Data prepares text from a cluster, AWS or a log for a JSON or YAML value
// (-o json, -o yaml): credentials are masked (Redact) and the characters
// that YAML refuses or that would reach a terminal raw when the value is
// shown are escaped as Terminal does, except tab and newline, which both
// formats encode. The result is valid UTF-8 and marshals with
// sigs.k8s.io/yaml, whose YAML reader rejects C1 controls, DEL, U+FFFE and
// U+FFFF ("control characters are not allowed") when encoding/json writes
// them raw.
func Data(s string) string { return escape(Redact(s), true) }

// EscapeData escapes s as Data does, without masking credentials: for text
// already redacted.
func EscapeData(s string) string { return escape(s, true) }

// needsEscape reports whether rune r (valid, not ASCII) is escaped.
func needsEscape(r rune) bool {
	switch {
	case r >= 0x80 && r <= 0x9f:
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	case r == 0x2028, r == 0x2029, r == 0xfeff, r == 0xfffe, r == 0xffff:
		return true
	}
	return false
}

const hexDigits = "0123456789abcdef"

// escape implements Terminal (data false) and the escaping of Data (data
// true: tab and newline kept).
func escape(s string, data bool) string {
	// Fast path: printable ASCII only.
	i := 0
	for i < len(s) {
		c := s[i]
		if c < 0x20 || c >= 0x7f {
			if data && (c == '\t' || c == '\n') {
				i++
				continue
			}
			break
		}
		i++
	}
	if i == len(s) {
		return s
	}
	var b []byte
	last := 0 // s[:last] is in b (or needs no change while b is nil)
	flush := func(at int) {
		if b == nil {
			b = make([]byte, 0, len(s)+16)
		}
		b = append(b, s[last:at]...)
	}
	for i < len(s) {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			i++
			continue
		}
		if c < 0x80 { // C0 or DEL
			if data && (c == '\t' || c == '\n') {
				i++
				continue
			}
			flush(i)
			switch c {
			case '\t':
				b = append(b, `\t`...)
			case '\n':
				b = append(b, `\n`...)
			case '\r':
				b = append(b, `\r`...)
			default:
				b = append(b, '\\', 'x', hexDigits[c>>4], hexDigits[c&15])
			}
			i++
			last = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			flush(i)
			b = append(b, '\\', 'x', hexDigits[c>>4], hexDigits[c&15])
			i++
			last = i
			continue
		}
		if needsEscape(r) {
			flush(i)
			b = append(b, '\\', 'u', hexDigits[r>>12&15], hexDigits[r>>8&15], hexDigits[r>>4&15], hexDigits[r&15])
			i += size
			last = i
			continue
		}
		i += size
	}
	if b == nil {
		return s
	}
	b = append(b, s[last:]...)
	return string(b)
}
