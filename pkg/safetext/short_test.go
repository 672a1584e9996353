package safetext

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestShort(t *testing.T) {
	huge := strings.Repeat("a", 100<<10)
	for _, tc := range []struct {
		name, in, want string
		max            int
	}{
		{"short kept", "arn:aws:iam::123456789012:role/r", "arn:aws:iam::123456789012:role/r", 80},
		{"escape sequence", "\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`, 80},
		{"right-to-left override", "role/\u202eelor", `role/\u202eelor`, 80},
		{"newline and tab", "a\tb\nc", `a\tb\nc`, 80},
		{"cut with ellipsis", "abcdefghij", "abcd…", 5},
		{"huge value", huge, strings.Repeat("a", 79) + "…", 80},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Short(tc.in, tc.max)
			if got != tc.want || !utf8.ValidString(got) {
				t.Errorf("Short(%.40q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
			}
		})
	}
	// A multi-byte value cut in its raw prefix stays valid UTF-8.
	if got := Short(strings.Repeat("é", 100<<10), 10); !utf8.ValidString(got) || utf8.RuneCountInString(got) != 10 {
		t.Errorf("multi-byte: %q", got)
	}
}
