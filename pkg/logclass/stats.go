package logclass

import "bytes"

// Stats says what a Scan read, for the notes a report adds when a log
// could not be read as a text log: empty, compressed, binary, or with
// lines too long to classify whole.
type Stats struct {
	Bytes     int64  // bytes classified (the tails of over-long lines excluded)
	Lines     int    // lines read
	LongLines int    // lines longer than 1 MiB, classified on their first 1 MiB
	Format    string // "gzip", "zstd", "bzip2" or "xz" when the log starts with that format's magic bytes
	Binary    bool   // NUL bytes in the first 64 KiB: not a text log
}

// sniffBytes of the first block are looked at for NUL bytes.
const sniffBytes = 64 << 10

// compressedMagic: the first bytes of the compressed formats a rotated log
// is commonly kept in.
var compressedMagic = []struct {
	format string
	magic  []byte
}{
	{"gzip", []byte{0x1f, 0x8b}},
	{"zstd", []byte{0x28, 0xb5, 0x2f, 0xfd}},
	{"bzip2", []byte("BZh")},
	{"xz", []byte{0xfd, '7', 'z', 'X', 'Z', 0}},
}

// sniff sets Format and Binary from the first block of the log.
func (s *Stats) sniff(first []byte) {
	for _, c := range compressedMagic {
		if bytes.HasPrefix(first, c.magic) {
			s.Format = c.format
		}
	}
	s.Binary = bytes.IndexByte(first[:min(len(first), sniffBytes)], 0) >= 0
}
