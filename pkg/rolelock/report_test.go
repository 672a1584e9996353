package rolelock

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestReport: the typed lock status names the holder with bounded fields, says whether it expired, and carries
// no holder when the lock is free.
func TestReport(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	held := Status{Role: "arn:aws:iam::123456789012:role/app", Backend: "s3", Lock: "s3://locks/app", Held: true,
		Holder: Holder{ID: "ci-1", Host: "ci", PID: 7, Command: strings.Repeat("x", 10000) + "\x1b[2J", Since: now.Add(-time.Minute), Expiry: now.Add(-30 * time.Second)}}
	r := held.Report(now, true)
	if r.Kind != "LockStatus" || !r.Held || !r.Expired || !r.Broken || r.Holder == nil || r.Holder.ID != "ci-1" {
		t.Fatalf("report of an expired, broken lock: %+v", r)
	}
	if len(r.Holder.Command) > maxField+3 || strings.Contains(r.Holder.Command, "\x1b") {
		t.Errorf("holder's command not bounded: %d bytes", len(r.Holder.Command))
	}
	b, err := json.Marshal(r)
	if err != nil || strings.Contains(string(b), "\x1b") {
		t.Errorf("json %s, %v", b, err)
	}
	free := Status{Role: held.Role, Backend: "kubernetes", Lock: "kube-system/irsa-lock-x"}.Report(now, false)
	if free.Held || free.Holder != nil || free.Expired {
		t.Errorf("report of a free lock: %+v", free)
	}
}
