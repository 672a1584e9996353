package logclass

import (
	"encoding/binary"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/safetext"
)

// normalize turns one raw log record into plain text for matching: JSON and
// logfmt escapes (\n, \t, \", \\, \u00XX, \x1b) are resolved (twice at most,
// for JSON embedded in JSON), ANSI colour sequences and carriage returns are
// removed and a leading klog header is stripped. It never panics and runs in
// time linear in len(s).
func normalize(s string) string {
	if strings.IndexByte(s, '\\') >= 0 {
		s = unescape(s)
		if strings.Contains(s, `\n`) || strings.Contains(s, `\t`) || strings.Contains(s, `\"`) {
			s = unescape(s)
		}
	}
	if strings.IndexByte(s, 0x1b) >= 0 {
		s = stripANSI(s)
	}
	if strings.IndexByte(s, '\r') >= 0 {
		s = strings.ReplaceAll(s, "\r", " ")
	}
	return stripKlog(s)
}

// unescape resolves backslash escapes in one left-to-right pass. Unknown
// escapes (Windows paths, PHP namespaces such as Aws\Exception) are kept.
func unescape(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		switch n := s[i+1]; n {
		case 'n':
			b.WriteByte('\n')
			i++
		case 't':
			b.WriteByte('\t')
			i++
		case 'r':
			b.WriteByte(' ')
			i++
		case '"', '\\', '/', '\'':
			b.WriteByte(n)
			i++
		case 'u':
			if i+5 < len(s) {
				if r, ok := hex4(s[i+2 : i+6]); ok {
					if r < utf8.RuneSelf {
						b.WriteByte(byte(r))
					} else {
						b.WriteRune(r)
					}
					i += 5
					continue
				}
			}
			b.WriteByte(c)
		case 'x':
			if i+3 < len(s) && s[i+2] == '1' && (s[i+3] == 'b' || s[i+3] == 'B') {
				b.WriteByte(0x1b)
				i += 3
				continue
			}
			b.WriteByte(c)
		case '0':
			if i+3 < len(s) && s[i+2] == '3' && s[i+3] == '3' {
				b.WriteByte(0x1b)
				i += 3
				continue
			}
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func hex4(s string) (rune, bool) {
	var r rune
	for i := 0; i < 4; i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// stripANSI removes ESC-introduced control sequences (CSI "ESC [ ... final",
// OSC "ESC ] ... BEL/ST" and two-byte escapes).
func stripANSI(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != 0x1b {
			b.WriteByte(s[i])
			continue
		}
		if i+1 >= len(s) {
			break
		}
		switch s[i+1] {
		case '[':
			j := i + 2
			for j < len(s) && s[j] >= 0x20 && s[j] <= 0x3f {
				j++
			}
			if j < len(s) && s[j] >= 0x40 && s[j] <= 0x7e {
				j++
			}
			i = j - 1
		case ']':
			j := i + 2
			for j < len(s) && s[j] != 0x07 && s[j] != 0x1b {
				j++
			}
			if j < len(s) && s[j] == 0x1b && j+1 < len(s) && s[j+1] == '\\' {
				j++
			}
			i = j
		default:
			i++
		}
	}
	return b.String()
}

// stripKlog removes a klog/glog header, "Lmmdd hh:mm:ss.uuuuuu threadid
// file:line] ", from the start of s.
func stripKlog(s string) string {
	if len(s) < 20 || strings.IndexByte("IWEF", s[0]) < 0 {
		return s
	}
	// Fixed part: L, mmdd, space, hh:mm:ss.
	for i, c := range []byte("9999 99:99:99") {
		d := s[i+1]
		if c == '9' && (d < '0' || d > '9') || c != '9' && d != c {
			return s
		}
	}
	i := 14
	if s[i] != '.' {
		return s
	}
	i++
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	j := skipSpaces(s, i)
	if j == i {
		return s
	}
	k := j
	for k < len(s) && s[k] >= '0' && s[k] <= '9' {
		k++
	}
	if k == j {
		return s
	}
	i = skipSpaces(s, k)
	if i == k {
		return s
	}
	// file:line]
	for j = i; j < len(s) && s[j] != ']' && s[j] != ' ' && s[j] != '\t'; j++ {
	}
	if j >= len(s) || s[j] != ']' {
		return s
	}
	return s[skipSpaces(s, j+1):]
}

func skipSpaces(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

// asciiLower lowercases A-Z only, so byte offsets stay aligned with s.
func asciiLower(s string) string {
	i := 0
	for ; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			break
		}
	}
	if i == len(s) {
		return s
	}
	b := make([]byte, len(s))
	copy(b, s[:i])
	// Eight bytes at a time: 0x20 is added to each byte in 'A'..'Z' (other
	// bytes, UTF-8 included, are kept), found without a branch per byte.
	for ; i+8 <= len(s); i += 8 {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		low := x & 0x7f7f7f7f7f7f7f7f
		geA := low + 0x3f3f3f3f3f3f3f3f // high bit set where the byte's low 7 bits >= 'A'
		gtZ := low + 0x2525252525252525 // high bit set where they are > 'Z'
		upper := geA &^ gtZ &^ x & 0x8080808080808080
		binary.LittleEndian.PutUint64(b[i:], x|upper>>2)
	}
	for ; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	// b is never written again: one copy, not two.
	return unsafe.String(&b[0], len(b))
}

const (
	// maxExcerpt bounds Finding.Excerpt in bytes.
	maxExcerpt = 300
	// maxRedactWindow bounds the text from the excerpt's start that is
	// redacted: the excerpt plus room for a whole JWT or session token
	// crossing its end (whitespace runs are collapsed, so the excerpt may
	// consume more than maxExcerpt bytes of input).
	maxRedactWindow = 8 << 10
)

// excerpt cuts about maxExcerpt bytes of s around offset at: it starts at the
// beginning of the error chain that contains at (after the nearest quote, '='
// or bracket within 120 bytes before it), collapses whitespace and never cuts
// a UTF-8 sequence.
func excerpt(s string, at int) string {
	if at < 0 || at > len(s) {
		at = 0
	}
	start := at - 120
	if start <= 0 {
		start = 0
	} else if k := strings.IndexAny(s[start:at], " \n\t,"); k >= 0 {
		start += k + 1 // do not start mid-word
	}
	if k := strings.LastIndexAny(s[start:at], "\"={|>\n"); k >= 0 {
		start += k + 1
	}
	for start < at && strings.IndexByte(" :;,.-", s[start]) >= 0 {
		start++
	}
	// Mask credentials in what the excerpt can show, with a margin so that
	// a secret crossing its end is still recognised whole.
	s = safetext.Redact(s[start:min(len(s), start+maxRedactWindow)])
	start = 0
	var b strings.Builder // one allocation: String does not copy
	b.Grow(min(maxExcerpt, len(s)))
	for i := start; i < len(s) && b.Len() < maxExcerpt; {
		if c := s[i]; c <= ' ' || c == 0x7f {
			i++
			for i < len(s) && (s[i] <= ' ' || s[i] == 0x7f) {
				i++
			}
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			continue
		}
		j := i + 1
		for j < len(s) && s[j] > ' ' && s[j] != 0x7f {
			j++
		}
		if room := maxExcerpt - b.Len(); j-i > room {
			j = i + room
			for j > i && !utf8.RuneStart(s[j]) {
				j--
			}
			b.WriteString(s[i:j])
			break
		}
		b.WriteString(s[i:j])
		i = j
	}
	out := b.String()
	if !utf8.ValidString(out) {
		out = strings.ToValidUTF8(out, "\uFFFD")
		if len(out) > maxExcerpt {
			k := maxExcerpt
			for k > 0 && !utf8.RuneStart(out[k]) {
				k--
			}
			out = out[:k]
		}
	}
	out = strings.TrimRight(out, "\"'}], ")
	// Keep the closing bracket of a redaction marker at the end.
	if strings.HasSuffix(out, "[REDACTED") || strings.HasSuffix(out, "[REDACTED-JWT") {
		out += "]"
	}
	return out
}

// safeFinding masks credentials (safetext.Redact) in every string of f and
// makes each valid UTF-8 without control characters, bidi overrides or
// anything else a YAML encoder refuses (safetext.Data), so that a finding
// can be printed or marshalled as it is.
func safeFinding(f Finding) Finding {
	f.CallerARN = safetext.Data(f.CallerARN)
	f.Account = safetext.Data(f.Account)
	f.Role = safetext.Data(f.Role)
	f.Session = safetext.Data(f.Session)
	f.Action = safetext.Data(f.Action)
	f.Resource = safetext.Data(f.Resource)
	f.SDK = safetext.Data(f.SDK)
	f.Reason = safetext.Data(f.Reason)
	f.Excerpt = safetext.EscapeData(f.Excerpt) // redacted by excerpt
	if len(f.Excerpt) > maxExcerpt {
		k := maxExcerpt
		for k > 0 && !utf8.RuneStart(f.Excerpt[k]) {
			k--
		}
		f.Excerpt = f.Excerpt[:k]
	}
	return f
}
