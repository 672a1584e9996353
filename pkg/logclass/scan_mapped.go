package logclass

import (
	"bytes"
	"errors"
	"runtime/debug"
)

const (
	// minMapBytes: a regular file at least this big is scanned through a
	// memory mapping (see mapFile) instead of read into buffers.
	minMapBytes = 4 << 20
	// mappedBlockBytes is the size of the blocks a mapped file is cut into
	// (extended to the end of their last line).
	mappedBlockBytes = 512 << 10
)

// ErrFileShrank is returned by Scan when a mapped log file was truncated
// while it was read (a rotation by copytruncate); the findings before the
// truncation have been emitted.
var ErrFileShrank = errors.New("the file shrank while it was read (rotated or truncated?): run again")

// mapping is a read-only memory mapping of a file's content from the
// reader's offset, with a way to give back the pages already scanned so the
// resident memory stays flat in the size of the file.
type mapping struct {
	data []byte
	// release gives back the pages of data[:end] (whole pages only); the
	// data stays readable (the pages are read again from the page cache).
	release func(end int)
	// close unmaps data and moves the file's offset past what was scanned
	// (done bytes of data).
	close func(done int)
}

// runMapped scans a mapped file: blocks of whole lines are cut from the
// mapping in order, without copying, and go through the same prefilter
// workers and in-order classification as read blocks. Only the pages of
// the blocks in flight are resident. A line longer than maxLineBytes is
// classified in overlapping windows, like in a read stream.
//
// A mapped file that shrinks faults on access; the fault is turned into
// ErrFileShrank (the workers do the same, see job.runSafely).
func (p *pipeline) runMapped(m *mapping) (err error) {
	data := m.data
	done := 0 // bytes handed over or skipped
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		r := recover()
		if r != nil {
			p.abandonPending() // no worker reads the mapping after this
		}
		m.close(done)
		if r != nil {
			if !isFault(r) {
				panic(r)
			}
			err = ErrFileShrank
		}
	}()
	p.release = m.release
	for done < len(data) && p.err == nil {
		end := min(done+mappedBlockBytes, len(data))
		partial := false
		if end < len(data) {
			// Extend the block to the end of its last line, unless that line
			// is too long: then the block ends before it, and the line goes
			// in windows of maxLineBytes, each alone in its block, the next
			// starting windowOverlap before the end of the last.
			lineStart := bytes.LastIndexByte(data[done:end], '\n') + 1 + done
			limit := min(len(data), lineStart+maxLineBytes+1) // a line of maxLineBytes and its newline
			if k := bytes.IndexByte(data[end:limit], '\n'); k >= 0 {
				end += k + 1
			} else if limit == len(data) && len(data)-lineStart <= maxLineBytes {
				end = len(data) // the last line, without a newline
			} else if lineStart > done {
				end = lineStart
			} else {
				end, partial = done+maxLineBytes, true
			}
		}
		p.dispatch(nil, data[done:end], partial, end)
		done = end
		if partial {
			done -= windowOverlap
		}
	}
	for len(p.pending) > 0 {
		p.finishOldest()
	}
	return p.err
}

// abandonPending waits for the blocks in flight without classifying them.
func (p *pipeline) abandonPending() {
	for _, j := range p.pending {
		<-j.done
	}
	p.pending = nil
}

// isFault reports whether a recovered panic value is a memory fault (with
// debug.SetPanicOnFault, a runtime.Error with the faulting address).
func isFault(r any) bool {
	_, ok := r.(interface{ Addr() uintptr })
	return ok
}
