//go:build linux || darwin || freebsd

package logclass

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// mapFile maps r's remaining content read-only when r is a regular file of
// at least minMapBytes from its offset: scanning the mapping saves the
// kernel's copy into buffers (about a third of a read scan's CPU time under
// perf). Anything else (a pipe, a small file, a mapping refused) is read as
// a stream.
func mapFile(r io.Reader) (*mapping, bool) {
	f, ok := r.(*os.File)
	if !ok {
		return nil, false
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return nil, false
	}
	offset, err := f.Seek(0, io.SeekCurrent)
	if err != nil || st.Size()-offset < minMapBytes || st.Size() != int64(int(st.Size())) {
		return nil, false
	}
	page := int64(os.Getpagesize())
	base := offset / page * page
	mem, err := unix.Mmap(int(f.Fd()), base, int(st.Size()-base), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, false
	}
	skip := int(offset - base)
	released := 0 // bytes of mem given back
	return &mapping{
		data: mem[skip:],
		release: func(end int) {
			upTo := int(int64(skip+end) / page * page)
			if upTo > released {
				_ = unix.Madvise(mem[released:upTo], unix.MADV_DONTNEED)
				released = upTo
			}
		},
		close: func(done int) {
			_ = unix.Munmap(mem)
			_, _ = f.Seek(offset+int64(done), io.SeekStart)
		},
	}, true
}
