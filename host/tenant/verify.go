package tenant

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/vire-dev/vire/host/store"
	"github.com/vire-dev/vire/sdk"
)

// Break is the first broken link of an audit chain.
type Break struct {
	// Segment is the segment where the chain breaks.
	Segment uint64 `json:"segment"`
	// Index is the record's index within the segment (-1: the segment as a
	// whole).
	Index int `json:"index"`
	// Record is the chain position expected there.
	Record uint64 `json:"record"`
	Reason string `json:"reason"`
}

func (b *Break) String() string {
	if b.Index < 0 {
		return fmt.Sprintf("segment %d: %s", b.Segment, b.Reason)
	}
	return fmt.Sprintf("segment %d, record %d (#%d of the chain): %s", b.Segment, b.Index, b.Record, b.Reason)
}

// VerifyReport is the outcome of Verify.
type VerifyReport struct {
	Tenant   string `json:"tenant"`
	Segments uint64 `json:"segments"`
	Records  uint64 `json:"records"`
	// LastHash is the hash of the last record: keep it somewhere else to
	// anchor today's log against later truncation.
	LastHash string `json:"last_hash,omitempty"`
	// Unanchored counts the segments after the head (written, but the head
	// was not moved yet, or an instance stopped in between). Their records
	// are chained, but an edit to the very last record is only detectable
	// once the head covers it.
	Unanchored uint64 `json:"unanchored,omitempty"`
	// Broken is nil when the chain is whole.
	Broken *Break `json:"broken,omitempty"`
}

// OK reports whether the chain is whole.
func (r VerifyReport) OK() bool { return r.Broken == nil }

// Verify walks a tenant's audit chain from the first record and reports the
// first broken link: a missing, unreadable or renumbered segment, a record
// whose position or previous-record hash does not match (an edit, deletion
// or reordering before it), or a head that names more than the chain holds
// (segments deleted from the end). Storage errors are returned as errors.
func Verify(ctx context.Context, st *store.Store, tenant string) (VerifyReport, error) {
	rep := VerifyReport{Tenant: tenant}
	var h chainHead
	_, err := st.Get(ctx, tenant, kindAuditHead, headName, &h)
	if err != nil && !errors.Is(err, sdk.ErrNotFound) {
		if errors.Is(err, sdk.ErrIntegrity) {
			rep.Broken = &Break{Index: -1, Reason: "the audit head cannot be opened: " + err.Error()}
			return rep, nil
		}
		return rep, err
	}
	var (
		n       uint64
		hash    string
		headSum string // hash at the end of segment h.Seq
	)
	cursor := ""
	for rep.Broken == nil {
		p, err := st.List(ctx, tenant, kindAudit, store.ListOpts{Cursor: cursor})
		if err != nil {
			return rep, err
		}
		for _, it := range p.Items {
			want := rep.Segments + 1
			seq, perr := strconv.ParseUint(it.Name, 10, 64)
			switch {
			case perr != nil || it.Name != segName(seq):
				rep.Broken = &Break{Segment: want, Index: -1, Reason: fmt.Sprintf("a document named %q does not belong in the audit log", it.Name)}
			case seq != want:
				rep.Broken = &Break{Segment: want, Index: -1, Reason: fmt.Sprintf("segment %d is missing (the next one is %d)", want, seq)}
			}
			if rep.Broken != nil {
				return rep, nil
			}
			b := checkSegment(ctx, st, tenant, seq, &n, &hash)
			if b != nil {
				if errors.Is(b.err, sdk.ErrIntegrity) || b.err == nil {
					rep.Broken = &b.Break
					return rep, nil
				}
				return rep, b.err
			}
			rep.Segments = seq
			if seq == h.Seq {
				headSum = hash
			}
		}
		if p.NextCursor == "" {
			break
		}
		cursor = p.NextCursor
	}
	rep.Records, rep.LastHash = n, hash
	switch {
	case h.Seq > rep.Segments:
		rep.Broken = &Break{Segment: rep.Segments + 1, Index: -1, Reason: fmt.Sprintf("the chain ends at segment %d but its head records segment %d: segments were removed from the end", rep.Segments, h.Seq)}
	case h.Seq > 0 && headSum != h.Hash:
		rep.Broken = &Break{Segment: h.Seq, Index: -1, Reason: "the segment's last record does not match the hash its head recorded: the record was changed"}
	default:
		rep.Unanchored = rep.Segments - h.Seq
	}
	return rep, nil
}

type segBreak struct {
	Break
	err error
}

// checkSegment verifies one segment against the chain so far (n records
// ending in hash) and advances n and hash.
func checkSegment(ctx context.Context, st *store.Store, tenant string, seq uint64, n *uint64, hash *string) *segBreak {
	brk := func(i int, format string, args ...any) *segBreak {
		return &segBreak{Break: Break{Segment: seq, Index: i, Record: *n + 1, Reason: fmt.Sprintf(format, args...)}}
	}
	data, _, err := st.GetBytes(ctx, tenant, kindAudit, segName(seq))
	if errors.Is(err, sdk.ErrNotFound) {
		return brk(-1, "segment %d disappeared while it was being verified", seq)
	}
	if err != nil {
		b := brk(-1, "the segment cannot be opened: %v", err)
		b.err = err
		return b
	}
	var seg segment
	if err := json.Unmarshal(data, &seg); err != nil {
		return brk(-1, "the segment is not a valid segment document: %v", err)
	}
	switch {
	case seg.Format != segmentFormat:
		return brk(-1, "unknown segment format %d", seg.Format)
	case seg.Seq != seq:
		return brk(-1, "the segment says it is segment %d", seg.Seq)
	case len(seg.Records) == 0:
		return brk(-1, "the segment holds no records")
	}
	for i, raw := range seg.Records {
		var r Record
		if err := json.Unmarshal(raw, &r); err != nil {
			return brk(i, "the record is not valid JSON: %v", err)
		}
		switch {
		case r.N != *n+1:
			return brk(i, "the record says it is #%d: records were removed, added or reordered", r.N)
		case r.Prev != *hash:
			return brk(i, "the record does not follow the one before it (its previous-record hash differs): the previous record was changed, or records were removed or reordered")
		}
		*n, *hash = r.N, recordHash(raw)
	}
	return nil
}
