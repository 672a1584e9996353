package safetext

// Character classes, looked up in one table.
const (
	clAlnumBit = iota
	clUpperAlnumBit
	clB64Bit // standard base64 without padding
	clB64URLBit
	clKeyBit // a key name's characters
	clValueEndBit
	clTriggerBit // ':' and '=', 'J' (eyJ), 'b' and 'B' (bearer)

	clAlnum      = 1 << clAlnumBit
	clUpperAlnum = 1 << clUpperAlnumBit
	clB64        = 1 << clB64Bit
	clB64URL     = 1 << clB64URLBit
	clKey        = 1 << clKeyBit
	clValueEnd   = 1 << clValueEndBit
	clTrigger    = 1 << clTriggerBit
)

var classes = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		b := byte(c)
		alnum := b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
		if alnum {
			t[c] |= clAlnum | clB64 | clB64URL | clKey
		}
		if b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' {
			t[c] |= clUpperAlnum
		}
		if b == 'J' || b == 'b' || b == 'B' {
			t[c] |= clTrigger
		}
		switch b {
		case '+', '/':
			t[c] |= clB64
		case '-', '_':
			t[c] |= clB64URL | clKey
		case '.':
			t[c] |= clKey
		case ':', '=':
			t[c] |= clTrigger
		case ' ', '\t', '\n', '\r', '"', '\'', '\\', ',', ';', '&', '}', ']', ')', '>', '<', '|', '`':
			t[c] |= clValueEnd
		}
		if b < ' ' || b == 0x7f {
			t[c] |= clValueEnd
		}
	}
	return t
}()

func isAlnum(c byte) bool      { return classes[c]&clAlnum != 0 }
func isUpperAlnum(c byte) bool { return classes[c]&clUpperAlnum != 0 }

// isB64 reports a character of standard base64 (without padding).
func isB64(c byte) bool { return classes[c]&clB64 != 0 }

// isB64URL reports a character of base64url.
func isB64URL(c byte) bool { return classes[c]&clB64URL != 0 }

// isKeyChar reports a character of a key name.
func isKeyChar(c byte) bool { return classes[c]&clKey != 0 }

// isValueEnd reports a character that ends a credential value.
func isValueEnd(c byte) bool { return classes[c]&clValueEnd != 0 }
