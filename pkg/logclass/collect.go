package logclass

import "io"

// Defaults of a Collector's bounds.
const (
	DefaultMaxLines    = 10
	DefaultMaxFindings = 100
)

// Collector merges the findings of one or more Scans by identity, so that a
// log with a million matching lines yields a handful of findings, each with
// the number of records it stands for: use its Add as Scan's emit function.
// Add takes constant time (a map lookup) and the memory held is bounded by
// MaxFindings and MaxLines, whatever the number of matching lines.
//
// The identity of a finding is its ID, Account, Role, Action, Resource and
// Blocked (one call denied by two kinds of policy is two findings: an
// identity policy fixes one, not the other), and its CallerARN when it has
// no Role (an IAM user); the role session,
// which differs from pod to pod and from call to call, is not part of it. A
// merged finding keeps the fields of its first record (Line, Session,
// Excerpt, ...), counts the records in Count and lists the first MaxLines
// of their line numbers in Lines.
//
// The zero value is ready to use. A Collector is not safe for concurrent
// use (Scan calls emit from the calling goroutine only).
type Collector struct {
	// MaxLines bounds Finding.Lines (DefaultMaxLines when 0).
	MaxLines int
	// MaxFindings bounds the distinct identities kept (DefaultMaxFindings
	// when 0). Beyond it, a finding with a new identity is counted in the
	// Others of the first finding with the same ID (one more is kept per
	// ID).
	MaxFindings int

	index    map[identity]int
	firstOfs map[ID]int
	out      []Finding
	records  int
}

type identity struct {
	id                                ID
	account, role, caller, act, resrc string
	blocked                           Blocked
}

func identityOf(f Finding) identity {
	k := identity{id: f.ID, account: f.Account, role: f.Role, act: f.Action, resrc: f.Resource, blocked: f.Blocked}
	if f.Role == "" {
		k.caller = f.CallerARN
	}
	return k
}

// Add merges f into the findings collected so far.
func (c *Collector) Add(f Finding) {
	if c.index == nil {
		c.index = map[identity]int{}
		c.firstOfs = map[ID]int{}
	}
	c.records++
	k := identityOf(f)
	i, ok := c.index[k]
	if !ok {
		maxFindings := c.MaxFindings
		if maxFindings <= 0 {
			maxFindings = DefaultMaxFindings
		}
		first, seenID := c.firstOfs[f.ID]
		if len(c.index) >= maxFindings && seenID {
			c.out[first].Others++
			return
		}
		f.Count = 0
		f.Lines = nil
		i = len(c.out)
		c.out = append(c.out, f)
		c.index[k] = i
		if !seenID {
			c.firstOfs[f.ID] = i
		}
	}
	m := &c.out[i]
	m.Count++
	maxLines := c.MaxLines
	if maxLines <= 0 {
		maxLines = DefaultMaxLines
	}
	if len(m.Lines) < maxLines {
		m.Lines = append(m.Lines, f.Line)
	}
}

// Findings returns the merged findings in the order of their first record.
// The slice is the Collector's own: do not modify it while adding more.
func (c *Collector) Findings() []Finding { return c.out }

// Records returns the number of findings added (records classified).
func (c *Collector) Records() int { return c.records }

// Collect scans r (see Scan) and returns its findings merged by a Collector
// with the default bounds: time linear in the size of the log, memory flat
// in its number of matching lines.
func (c *Classifier) Collect(r io.Reader) ([]Finding, error) {
	var col Collector
	err := c.Scan(r, col.Add)
	return col.Findings(), err
}
