// Package rolelock serialises kubectl irsa's writes to one IAM role among every kubectl irsa run that shares the
// same lock. IAM has no conditional write, so two runs that read, merge and write one trust document at once lose
// one of the changes; a lock per role makes the read-merge-write of each run exclusive. Two backends: a
// coordination.k8s.io Lease in the cluster (Lease: the default; runs against other clusters do not see it) and an
// object in an S3 bucket taken with S3's conditional writes (S3: one lock for every cluster sharing the bucket).
// No lock fences IAM (a run whose lock expired may still write), so the write side also reads its write back and
// merges again when another writer replaced it.
package rolelock

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/rand"
)

// Locker is a backend of per-role locks.
type Locker interface {
	// With runs fn while holding the lock of roleARN, waiting for another run to release it first (or for its
	// lock to expire). fn's context is cancelled if the lock is lost; the lock is released when fn returns.
	With(ctx context.Context, roleARN string, fn func(context.Context) error) error
	// Status reads who holds the lock of roleARN.
	Status(ctx context.Context, roleARN string) (Status, error)
	// Break removes the lock of roleARN as Status saw it (not a newer one) and returns what it removed;
	// ErrChanged when another run took or renewed it in between.
	Break(ctx context.Context, roleARN string) (Status, error)
	// Delete removes the lock of a deleted role unless a live run holds it; a lock already gone is fine.
	Delete(ctx context.Context, roleARN string) error
}

// Holder is who holds a lock, as the run that took it recorded it. Every field comes from the lock's store:
// another run (or anyone who can write the store) wrote it, so print it escaped.
type Holder struct {
	// ID names the run: host, pid and a random suffix.
	ID      string `json:"id"`
	Host    string `json:"host,omitempty"`
	PID     int    `json:"pid,omitempty"`
	Cluster string `json:"cluster,omitempty"`
	Command string `json:"command,omitempty"`
	// Since is when the run took the lock; Expiry when it lapses unless renewed.
	Since  time.Time `json:"since"`
	Expiry time.Time `json:"expiry"`
	// TTLSeconds is how long an S3 lock record lives without renewal, as its writer set it.
	TTLSeconds int `json:"ttlSeconds,omitempty"`
}

// maxField bounds each holder field in messages (the store is written by others).
const maxField = 120

// String names the holder in one line: its id, then host, pid, cluster and command when recorded.
func (h Holder) String() string {
	var parts []string
	if h.Host != "" {
		parts = append(parts, "host "+short(h.Host))
	}
	if h.PID != 0 {
		parts = append(parts, "pid "+strconv.Itoa(h.PID))
	}
	if h.Cluster != "" {
		parts = append(parts, "cluster "+short(h.Cluster))
	}
	if h.Command != "" {
		parts = append(parts, strconv.Quote(short(h.Command)))
	}
	id := short(h.ID)
	if id == "" {
		id = "an unnamed run"
	}
	if len(parts) == 0 {
		return id
	}
	return id + " (" + strings.Join(parts, ", ") + ")"
}

func short(s string) string {
	if len(s) <= maxField {
		return s
	}
	return s[:maxField] + "..."
}

// Status is the state of one role's lock.
type Status struct {
	Role string
	// Backend is "kubernetes" or "s3"; Lock names the lock object (namespace/name, or s3://bucket/key).
	Backend, Lock string
	// Held reports whether a run holds the lock (possibly expired: see Expired); Holder is that run.
	Held   bool
	Holder Holder
	// version is what Break removes: the lease's resourceVersion or the object's ETag.
	version string
}

// Expired reports whether the holder stopped renewing the lock before now: the next run takes it over.
func (s Status) Expired(now time.Time) bool {
	return s.Held && !s.Holder.Expiry.IsZero() && now.After(s.Holder.Expiry)
}

// HeldError means the lock stayed with another run for the whole wait.
type HeldError struct {
	Role, Holder, Lock string
	Waited             time.Duration
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("role %s is being changed by another kubectl irsa run (%s holds lock %s) and was not released within %s", e.Role, e.Holder, e.Lock, e.Waited)
}

// AccessError means the lock could not be read or written at all (permissions, a missing bucket or namespace,
// an unreachable API): nothing was written.
type AccessError struct {
	Backend, Lock string
	Err           error
}

func (e *AccessError) Error() string {
	return fmt.Sprintf("cannot take lock %s: %v", e.Lock, e.Err)
}

func (e *AccessError) Unwrap() error { return e.Err }

// ErrLost means the lock was lost (not renewed in time, or broken) while fn ran; fn's context was cancelled.
var ErrLost = errors.New("lost the role's lock while writing; re-run to verify the result")

// ErrChanged means the lock changed between reading it and breaking it: another run took or renewed it.
var ErrChanged = errors.New("the lock changed while breaking it (another run took or renewed it)")

// Self describes this run for the locks it takes: host and pid (the id adds a random suffix), and what the
// caller knows (cluster, command).
func Self(cluster, command string) Holder {
	host, _ := os.Hostname()
	pid := os.Getpid()
	return Holder{ID: host + "-" + strconv.Itoa(pid) + "-" + rand.String(5), Host: host, PID: pid, Cluster: cluster, Command: command}
}

func duration(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
