package logclass

import (
	"bytes"
	"io"
	"runtime"
	"slices"
	"sync"
)

const (
	// maxLineBytes bounds what is classified at once: a longer line is
	// classified in windows of this size (see windowOverlap).
	maxLineBytes = 1 << 20
	// windowOverlap: the windows of a line longer than maxLineBytes overlap
	// by this much, so that a message of up to this length is whole in one
	// of them wherever it lies in the line.
	windowOverlap = 64 << 10
	// bufBytes is the size of one read buffer (one block and the start of
	// the next line); Scan holds at most maxWorkers+2 of them, so memory
	// stays flat in the size of the log. A line that does not fit is read
	// into a bigger buffer (up to maxLineBytes), dropped once its block is
	// done.
	bufBytes = minBlockBytes
	// minBlockBytes: a block is handed to the prefilter once it holds this
	// much (or at EOF), so that small reads do not make tiny jobs.
	minBlockBytes = 256 << 10
	// readBytes bounds one Read, so that a block is still in the CPU cache
	// when it is searched.
	readBytes = 128 << 10
	// maxWorkers bounds the prefilter goroutines.
	maxWorkers = 4
	// sampleBytes of a block are used to pick the prefilter's words.
	sampleBytes = 128 << 10
	// resampleBytes: the prefilter's words are picked again after this
	// much log, in case its content changes.
	resampleBytes = 64 << 20
	// maxWalkBack bounds the walk over continuation lines to a record start.
	maxWalkBack = 1000
	// maxDedup bounds the findings remembered for one record.
	maxDedup = 32
	// maxRecordFindings bounds the findings held back for one record: a
	// record of more matching lines (continuation lines without end) is
	// emitted in parts, so memory stays flat.
	maxRecordFindings = 64
)

// Scan classifies every line read from r and calls emit, in input order and
// from the calling goroutine, for each finding. It returns the first read
// error other than io.EOF (findings before it are emitted).
//
// A record is a line plus the continuation lines after it (indented lines,
// "Caused by:", the exception line closing a Python traceback, aws-sdk-go's
// "caused by:"); Finding.Line is the record's first line. Within a record a
// repeated finding (a Java message repeated in "Caused by:") is emitted
// once, and a generic NoCredentials ("failed to retrieve credentials") is
// dropped when a continuation line names the cause.
//
// Scan streams with memory flat in the size of the log: a few 256 KiB
// buffers (a few of 1 MiB while a longer line is read). A line longer than
// 1 MiB is classified whole, in windows of 1 MiB that overlap by 64 KiB
// (its findings carry the line's number; one repeated in the overlap is
// emitted once), not an error. Time is linear in the size of the
// log and the memory held does not grow with the number of matching lines:
// emit them into a Collector to merge them by identity. Lines are
// prefiltered 8 bytes at a time without per-line work (see prefilter.go) by
// up to GOMAXPROCS goroutines, one block of up to 256 KiB each. When r has no
// more data at hand (a short read, as from a live stream), the findings so
// far are emitted before Scan reads again. A file is read like any stream:
// on Linux, copying it into a few buffers that stay in the CPU cache costs
// less than the page faults of a memory mapping (bench/logs.sh).
func (c *Classifier) Scan(r io.Reader, emit func(Finding)) error {
	_, err := c.ScanStats(r, emit)
	return err
}

// ScanStats is Scan that also says what it read (see Stats).
func (c *Classifier) ScanStats(r io.Reader, emit func(Finding)) (Stats, error) {
	workers := max(1, min(runtime.GOMAXPROCS(0), maxWorkers))
	jobs := make(chan *job, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				j.run(c)
				close(j.done)
			}
		}()
	}
	defer func() {
		close(jobs)
		wg.Wait()
	}()

	p := &pipeline{
		sc:         scanner{c: c, emit: emit},
		jobs:       jobs,
		maxPending: workers + 1,
		maxBufs:    workers + 2,
		inline:     runtime.GOMAXPROCS(0) == 1,
	}
	err := p.run(r)
	p.stats.Lines = p.sc.lines
	p.stats.done()
	return p.stats, err
}

// job is one block of whole lines handed to a worker goroutine, which
// finds the candidate lines and classifies them.
type job struct {
	buf      []byte // the pooled buffer holding data
	data     []byte
	pf       *prefilter
	partial  bool // data ends inside a line longer than maxLineBytes (a window of it)
	found    []lineFinding
	newlines int // in data
	done     chan struct{}
}

// lineFinding is a finding of the line starting at offset ls of a block,
// the block's line number rel (from 0); Line is not set yet.
type lineFinding struct {
	ls, rel int
	f       Finding
}

// run finds and classifies the candidate lines of j.data and counts its
// lines.
func (j *job) run(c *Classifier) {
	pos, rel := 0, 0
	for _, ls := range j.pf.find(j.data) {
		le := len(j.data)
		if e := bytes.IndexByte(j.data[ls:], '\n'); e >= 0 {
			le = ls + e
		}
		// Blocks hold lines of at most maxLineBytes: longer ones come in
		// windows (see pipeline.read).
		s := string(bytes.TrimSuffix(j.data[ls:le], []byte{'\r'}))
		if f, ok := c.classify(s); ok {
			rel += bytes.Count(j.data[pos:ls], []byte{'\n'})
			pos = ls
			j.found = append(j.found, lineFinding{ls, rel, f})
		}
	}
	j.newlines = rel + bytes.Count(j.data[pos:], []byte{'\n'})
}

// pipeline reads blocks, hands them to the prefilter goroutines and
// classifies their candidate lines in order.
type pipeline struct {
	sc         scanner
	jobs       chan<- *job
	inline     bool   // run jobs in the reading goroutine
	pending    []*job // in input order
	maxPending int
	free       [][]byte
	lineBuf    []byte // a free buffer of maxLineBytes+1, or nil
	// freeFound are the found slices of finished jobs, reused: a block's
	// findings no longer grow a new slice each.
	freeFound [][]lineFinding
	nbufs     int
	maxBufs   int

	pf          *prefilter
	sampled     int // bytes of the sample pf was made from
	sinceSample int // bytes dispatched since

	inLine bool // the last block dispatched ended inside a line (a window)
	stats  Stats
}

// run reads r to the end and emits all findings. If emit (or r) panics,
// the pending blocks are left to the workers, which never call emit.
func (p *pipeline) run(r io.Reader) error {
	err := p.read(r)
	for len(p.pending) > 0 {
		p.finishOldest()
	}
	return err
}

func (p *pipeline) read(r io.Reader) (err error) {
	buf := p.getBuf()
	n := 0
	empty := 0    // consecutive reads returning nothing
	searched := 0 // buf[:searched] holds no newline (a long line read in small reads)
	for {
		var m int
		want := min(len(buf), n+readBytes) - n
		m, err = r.Read(buf[n : n+want])
		n += m
		if m == 0 && err == nil && want > 0 {
			if empty++; empty >= 100 {
				err = io.ErrNoProgress
			}
		} else {
			empty = 0
		}
		// A short read means the reader has no more data right now (a pipe
		// or a live stream): hand over what there is and emit its findings
		// before the next Read, which may block.
		short := m < want
		if err != nil {
			if n > 0 {
				p.dispatch(buf, buf[:n], false)
			} else {
				p.putBuf(buf)
			}
			if err == io.EOF {
				err = nil
			}
			return err
		}
		if n < minBlockBytes && !short {
			continue
		}
		if last := bytes.LastIndexByte(buf[searched:n], '\n'); last >= 0 {
			last += searched
			next := p.getBuf()
			rest := copy(next, buf[last+1:n])
			p.dispatch(buf, buf[:last+1], false)
			buf, n, searched = next, rest, rest
			if short {
				for len(p.pending) > 0 {
					p.finishOldest()
				}
			}
			continue
		}
		searched = n
		if n > maxLineBytes {
			// A window of a longer line: the next one starts windowOverlap
			// before its end (no newline in it either).
			next := p.getLineBuf()
			rest := copy(next, buf[maxLineBytes-windowOverlap:n])
			p.dispatch(buf, buf[:maxLineBytes], true)
			buf, n, searched = next, rest, rest
		} else if n == len(buf) {
			// A line longer than the buffer: read on in a bigger one (a line
			// of maxLineBytes and its newline fit in the biggest).
			var bigger []byte
			if 2*len(buf) > maxLineBytes {
				bigger = p.getLineBuf()
			} else {
				bigger = make([]byte, 2*len(buf))
			}
			copy(bigger, buf[:n])
			p.putBuf(buf)
			buf = bigger
		}
	}
}

// getBuf returns a free buffer, waiting for the oldest block to be done if
// all buffers are in use.
func (p *pipeline) getBuf() []byte {
	for len(p.free) == 0 && p.nbufs >= p.maxBufs {
		p.finishOldest()
	}
	if k := len(p.free); k > 0 {
		b := p.free[k-1]
		p.free = p.free[:k-1]
		return b
	}
	p.nbufs++
	return make([]byte, bufBytes)
}

// getLineBuf returns a buffer for a line up to maxLineBytes and its newline.
func (p *pipeline) getLineBuf() []byte {
	if b := p.lineBuf; b != nil {
		p.lineBuf = nil
		return b
	}
	return make([]byte, maxLineBytes+1)
}

// putBuf makes buf free again; of the buffers made for long lines, one is
// kept.
func (p *pipeline) putBuf(buf []byte) {
	switch len(buf) {
	case bufBytes:
		p.free = append(p.free, buf)
	case maxLineBytes + 1:
		p.lineBuf = buf
	}
}

// dispatch hands a block (data, in buf) to a worker. partial: data is a window of a line longer than
// maxLineBytes and ends inside it; the next block then starts windowOverlap
// bytes before data's end.
func (p *pipeline) dispatch(buf, data []byte, partial bool) {
	p.stats.sniff(data)
	p.stats.Bytes += int64(len(data))
	if p.inLine {
		p.stats.Bytes -= windowOverlap // read again from the previous window
	} else if partial {
		p.stats.LongLines++
	}
	p.inLine = partial
	// Pick the prefilter's words from the first block, again from a
	// bigger block if the first was small (a stream), and every
	// resampleBytes.
	if p.pf == nil || p.sinceSample >= resampleBytes || p.sampled < sampleBytes && len(data) > 2*p.sampled {
		p.sampled = min(len(data), sampleBytes)
		p.pf = newPrefilter(data[:p.sampled])
		p.sinceSample = 0
	}
	p.sinceSample += len(data)
	for len(p.pending) >= p.maxPending {
		p.finishOldest()
	}
	j := &job{buf: buf, data: data, pf: p.pf, partial: partial, done: make(chan struct{})}
	if k := len(p.freeFound); k > 0 {
		j.found, p.freeFound = p.freeFound[k-1], p.freeFound[:k-1]
	}
	p.pending = append(p.pending, j)
	if p.inline {
		j.run(p.sc.c)
		close(j.done)
		return
	}
	p.jobs <- j
}

// finishOldest waits for the oldest block's candidates, classifies them and
// recycles its buffer.
func (p *pipeline) finishOldest() {
	j := p.pending[0]
	p.pending = p.pending[1:]
	<-j.done
	p.sc.emitBlock(j.data, j.found, j.newlines, j.partial)
	clear(j.found) // drop the findings' strings
	p.freeFound = append(p.freeFound, j.found[:0])
	p.putBuf(j.buf)
}

// scanner holds the in-order state of a Scan: line numbers, records and
// de-duplication.
type scanner struct {
	c       *Classifier
	emit    func(Finding)
	lines   int // lines fully consumed before the current block
	prevRec int // record start line of the previous block's last line, 0 if unknown
	// inRec: the current block starts inside a line (the previous block was
	// a window of it) whose record starts at this line; 0 otherwise.
	inRec int
	// inLead is the first byte of that line (whether it is indented is
	// what isContinuation needs of a previous line).
	inLead byte

	// memoLs and memoRec: the last line (offset in the current block)
	// whose record start was computed, and that record start.
	memoLs, memoRec int

	dedupRec  int      // record start line of dedupKeys and record
	dedupKeys []recKey // findings seen in the record
	record    []Finding
}

// emitBlock numbers and emits, in order, the findings of the lines of data
// (whole lines, the last may lack its newline at EOF; the first is the rest
// of a long line when the previous block was partial; when partial, data
// is a window of a long line), holding newlines '\n' bytes, and advances
// the line count past data's complete lines.
//
// Findings of one record are emitted together, repeats dropped; a generic
// "failed to retrieve credentials" finding is dropped when a continuation
// line of the same record names the cause (aws-sdk-go prints "caused by:"
// on a new line).
func (sc *scanner) emitBlock(data []byte, found []lineFinding, newlines int, partial bool) {
	sc.memoLs = -1
	for _, lf := range found {
		f := lf.f
		f.Line = sc.recordStart(data, lf.ls, sc.lines+1+lf.rel)
		if f.Line != sc.dedupRec {
			sc.flush()
			sc.dedupRec = f.Line
			sc.dedupKeys = sc.dedupKeys[:0]
		}
		if !sc.seen(f) {
			if len(sc.record) >= maxRecordFindings {
				sc.flush()
			}
			sc.record = append(sc.record, f)
		}
	}
	sc.flush()
	total := sc.lines + newlines
	// Carry the record start of the block's last line to the next block.
	if partial {
		lastStart := bytes.LastIndexByte(data, '\n') + 1
		if sc.inRec == 0 || lastStart > 0 {
			sc.inLead = data[lastStart]
		}
		sc.inRec = sc.recordStart(data, lastStart, total+1)
	} else {
		if len(data) > 0 && data[len(data)-1] == '\n' {
			lastStart := bytes.LastIndexByte(data[:len(data)-1], '\n') + 1
			sc.prevRec = sc.recordStart(data, lastStart, total)
		}
		sc.inRec = 0
	}
	sc.lines = total
}

// recordStart returns the line number of the record containing the line
// that starts at offset ls of data and has number line, walking back over
// continuation lines. The previous answer in the block is remembered, so
// the walks of a block cover it at most once.
func (sc *scanner) recordStart(data []byte, ls, line int) int {
	cur, n, rec := ls, line, line
	for steps := 0; ; steps++ {
		if cur == sc.memoLs {
			rec = sc.memoRec
			break
		}
		if cur == 0 && sc.inRec > 0 { // the rest of a long line
			rec = sc.inRec
			break
		}
		if steps >= maxWalkBack {
			rec = n
			break
		}
		le := len(data)
		if e := bytes.IndexByte(data[cur:], '\n'); e >= 0 {
			le = cur + e
		}
		var prev []byte
		ps := -1
		if cur > 0 {
			ps = bytes.LastIndexByte(data[:cur-1], '\n') + 1
			prev = data[ps : cur-1]
			if ps == 0 && sc.inRec > 0 { // the rest of a long line: its start decides
				prev = []byte{sc.inLead}
			}
		}
		if !isContinuation(data[cur:le], prev) {
			rec = n
			break
		}
		if cur == 0 {
			rec = n
			if sc.prevRec > 0 {
				rec = sc.prevRec
			}
			break
		}
		cur = ps
		n--
	}
	sc.memoLs, sc.memoRec = ls, rec
	return rec
}

// seen reports whether f repeats a finding already seen in its record,
// and remembers it otherwise.
func (sc *scanner) seen(f Finding) bool {
	key := recKey{f.ID, f.CallerARN, f.Account, f.Role, f.Session, f.Action, f.Resource}
	if slices.Contains(sc.dedupKeys, key) {
		return true
	}
	if len(sc.dedupKeys) < maxDedup {
		sc.dedupKeys = append(sc.dedupKeys, key)
	}
	return false
}

// recKey is what makes two findings of a record the same.
type recKey struct {
	id                                               ID
	caller, account, role, session, action, resource string
}

// flush emits the findings held for the current record.
func (sc *scanner) flush() {
	specific := false
	for _, f := range sc.record {
		specific = specific || !isGeneric(f)
	}
	for _, f := range sc.record {
		if specific && isGeneric(f) {
			continue
		}
		sc.emit(f)
	}
	sc.record = sc.record[:0]
}

// isGeneric reports whether f only says credentials could not be obtained,
// without the cause.
func isGeneric(f Finding) bool {
	return f.ID == NoCredentials && f.Confidence != confHigh
}

var continuationPrefixes = [][]byte{
	[]byte("Caused by:"), []byte("caused by:"), []byte("Suppressed:"), []byte("... "),
	[]byte("Traceback (most recent call last)"), []byte("During handling of the above exception"),
	[]byte("The above exception was the direct cause"),
}

// isContinuation reports whether line continues the previous record (prev,
// nil when unknown): blank or indented lines (stack frames, tracebacks),
// "Caused by:"-style lines, and an exception line right after an indented
// one (the last line of a Python traceback, a Java exception after a
// frame). A Java exception header right after the log line that printed it
// starts its own record.
func isContinuation(line, prev []byte) bool {
	line = bytes.TrimSuffix(line, []byte{'\r'})
	if len(line) == 0 || line[0] == ' ' || line[0] == '\t' {
		return true
	}
	for _, p := range continuationPrefixes {
		if bytes.HasPrefix(line, p) {
			return true
		}
	}
	// Exception line: a (dotted) identifier ending in Exception, Error or
	// Throwable, followed by ':' or the end of the line.
	i := 0
	for i < len(line) && i < 256 {
		c := line[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '$' {
			i++
			continue
		}
		break
	}
	if i == 0 || (i < len(line) && line[i] != ':') {
		return false
	}
	id := line[:i]
	isExc := false
	for _, suf := range []string{"Exception", "Error", "Throwable"} {
		if len(id) > len(suf) && bytes.HasSuffix(id, []byte(suf)) {
			isExc = true
		}
	}
	prev = bytes.TrimSuffix(prev, []byte{'\r'})
	return isExc && len(prev) > 0 && (prev[0] == ' ' || prev[0] == '\t')
}
