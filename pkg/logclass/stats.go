package logclass

import "bytes"

// Stats says what a Scan read, for the notes a report adds when a log
// could not be read as a text log: empty, compressed, binary, or with
// lines too long to classify whole.
type Stats struct {
	Bytes     int64  // bytes classified
	Lines     int    // lines read
	LongLines int    // lines longer than 1 MiB, classified in overlapping windows of 1 MiB
	Format    string // "gzip", "zstd", "bzip2" or "xz" when the log starts with that format's header
	// Decompress is the command that reads Format ("zcat" for gzip).
	Decompress string
	Binary     bool // NUL bytes in the first 64 KiB: not a text log

	head    [headBytes]byte // the first bytes of the log, for Format
	headLen int
	sniffed int // bytes looked at for NUL bytes
}

const (
	// sniffBytes of the log, over however many blocks, are looked at for NUL bytes.
	sniffBytes = 64 << 10
	// headBytes is the longest header compressedFormats needs.
	headBytes = 10
)

// compressedFormats: the headers of the compressed formats a rotated log is
// commonly kept in (gzip RFC 1952; zstd RFC 8878; bzip2 "BZh", the block
// size 1-9 and the magic of a first block or of the end of an empty stream;
// xz's stream header).
var compressedFormats = []struct {
	format, decompress string
	match              func(head []byte) bool
}{
	{"gzip", "zcat", func(h []byte) bool { return bytes.HasPrefix(h, []byte{0x1f, 0x8b}) }},
	{"zstd", "zstdcat", func(h []byte) bool { return bytes.HasPrefix(h, []byte{0x28, 0xb5, 0x2f, 0xfd}) }},
	{"bzip2", "bzcat", func(h []byte) bool {
		return len(h) >= 10 && bytes.HasPrefix(h, []byte("BZh")) && h[3] >= '1' && h[3] <= '9' &&
			(bytes.Equal(h[4:10], []byte("1AY&SY")) || bytes.Equal(h[4:10], []byte{0x17, 0x72, 0x45, 0x38, 0x50, 0x90}))
	}},
	{"xz", "xzcat", func(h []byte) bool { return bytes.HasPrefix(h, []byte{0xfd, '7', 'z', 'X', 'Z', 0}) }},
}

// sniff looks at the next block of the log: its first bytes for a
// compressed format's header, and the first sniffBytes for NUL bytes
// (blocks of a stream may be a line each).
func (s *Stats) sniff(data []byte) {
	s.headLen += copy(s.head[s.headLen:], data)
	if s.sniffed < sniffBytes {
		look := data[:min(len(data), sniffBytes-s.sniffed)]
		s.Binary = s.Binary || bytes.IndexByte(look, 0) >= 0
		s.sniffed += len(look)
	}
}

// done sets Format once the whole log is read.
func (s *Stats) done() {
	for _, c := range compressedFormats {
		if c.match(s.head[:s.headLen]) {
			s.Format, s.Decompress = c.format, c.decompress
		}
	}
	s.head, s.headLen, s.sniffed = [headBytes]byte{}, 0, 0
}
