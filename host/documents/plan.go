package documents

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Action is what a plan item intends to do.
type Action string

// Plan actions.
const (
	ActionBuy       Action = "buy"
	ActionSell      Action = "sell"
	ActionHold      Action = "hold"
	ActionTrim      Action = "trim"
	ActionReview    Action = "review"
	ActionRebalance Action = "rebalance"
)

// Actions lists the valid plan actions.
var Actions = []Action{ActionBuy, ActionSell, ActionHold, ActionTrim, ActionReview, ActionRebalance}

// Status is where a plan item stands.
type Status string

// Plan item statuses.
const (
	StatusPending   Status = "pending"
	StatusTriggered Status = "triggered"
	StatusCompleted Status = "completed"
	StatusExpired   Status = "expired"
	StatusCancelled Status = "cancelled"
)

// Statuses lists the valid statuses.
var Statuses = []Status{StatusPending, StatusTriggered, StatusCompleted, StatusExpired, StatusCancelled}

// Transitions lists, for each status, the statuses an item may move to.
// Completed and cancelled items are final; an expired item may be re-armed.
// Setting the status an item already has is always allowed.
var Transitions = map[Status][]Status{
	StatusPending:   {StatusTriggered, StatusCompleted, StatusExpired, StatusCancelled},
	StatusTriggered: {StatusPending, StatusCompleted, StatusExpired, StatusCancelled},
	StatusExpired:   {StatusPending, StatusCancelled},
	StatusCompleted: {},
	StatusCancelled: {},
}

// CanTransition reports whether an item may move from one status to another.
func CanTransition(from, to Status) bool {
	return from == to || slices.Contains(Transitions[from], to)
}

// Open reports whether an item still waits for something to happen.
func (s Status) Open() bool { return s == StatusPending || s == StatusTriggered }

// Limits of a plan.
const (
	MaxPlanItems   = 500
	MaxTrigger     = 1000
	MaxItemNotes   = 4000
	planItemIDSize = 8 // random bytes in an item id
)

// PlanItem is one intended action. ID, CreatedAt and UpdatedAt are set by
// the service.
type PlanItem struct {
	ID     string `json:"id"`
	Action Action `json:"action"`
	// Ticker is CODE.EXCHANGE, upper case, e.g. "BHP.AU".
	Ticker      string   `json:"ticker"`
	TargetPrice *float64 `json:"target_price"`
	// TargetDate is YYYY-MM-DD, or "" for none.
	TargetDate string    `json:"target_date"`
	Trigger    string    `json:"trigger"`
	Status     Status    `json:"status"`
	Notes      string    `json:"notes"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// PlanItemPatch creates (Plans.AddItem) or merges into (Plans.UpdateItem) a
// plan item, with merge-patch semantics. An item needs an action, a ticker
// and at least one of target_price, target_date and trigger; the status
// defaults to pending.
type PlanItemPatch struct {
	Action      Opt[Action]  `json:"action,omitzero"`
	Ticker      Opt[string]  `json:"ticker,omitzero"`
	TargetPrice Opt[float64] `json:"target_price,omitzero"`
	TargetDate  Opt[string]  `json:"target_date,omitzero"`
	Trigger     Opt[string]  `json:"trigger,omitzero"`
	Status      Opt[Status]  `json:"status,omitzero"`
	Notes       Opt[string]  `json:"notes,omitzero"`
}

// PlanItemReadOnly names the item fields a patch cannot set.
var PlanItemReadOnly = []string{"id", "created_at", "updated_at"}

func (p *PlanItemPatch) fields() []string {
	var out []string
	for _, f := range []struct {
		name    string
		present bool
	}{
		{"action", p.Action.Present}, {"ticker", p.Ticker.Present}, {"target_price", p.TargetPrice.Present},
		{"target_date", p.TargetDate.Present}, {"trigger", p.Trigger.Present}, {"status", p.Status.Present},
		{"notes", p.Notes.Present},
	} {
		if f.present {
			out = append(out, f.name)
		}
	}
	return out
}

// apply merges the patch into it and validates the result; from is the
// status before the patch ("" for a new item).
func (p *PlanItemPatch) apply(it PlanItem, from Status) (PlanItem, error) {
	var fe fieldErrs
	for _, f := range []struct {
		name string
		null bool
	}{{"action", p.Action.Null}, {"ticker", p.Ticker.Null}, {"status", p.Status.Null}} {
		if f.null {
			fe.add(f.name, "cannot be cleared")
		}
	}
	setValue(&it.Action, p.Action)
	setValue(&it.Ticker, p.Ticker)
	setPtr(&it.TargetPrice, p.TargetPrice)
	setValue(&it.TargetDate, p.TargetDate)
	setValue(&it.Trigger, p.Trigger)
	setValue(&it.Status, p.Status)
	setValue(&it.Notes, p.Notes)
	if it.Status == "" {
		it.Status = StatusPending
	}
	switch {
	case it.Action == "":
		fe.add("action", "required: one of %s", joinStrings(Actions))
	case !slices.Contains(Actions, it.Action):
		fe.add("action", "want one of %s", joinStrings(Actions))
	}
	if it.Ticker == "" {
		fe.add("ticker", "required, as CODE.EXCHANGE, e.g. BHP.AU")
	} else if t, err := NormalizeTicker(it.Ticker); err != nil {
		fe.add("ticker", "%v", err)
	} else {
		it.Ticker = t
	}
	if it.TargetPrice != nil {
		checkPrice(&fe, "target_price", *it.TargetPrice)
	}
	if it.TargetDate != "" {
		checkDate(&fe, "target_date", it.TargetDate)
	}
	checkText(&fe, "trigger", it.Trigger, MaxTrigger)
	checkText(&fe, "notes", it.Notes, MaxItemNotes)
	if it.TargetPrice == nil && it.TargetDate == "" && strings.TrimSpace(it.Trigger) == "" {
		field := "target_price"
		for _, f := range []string{"target_price", "target_date", "trigger"} {
			if slices.Contains(p.fields(), f) {
				field = f
				break
			}
		}
		fe.add(field, "an item needs a target_price, a target_date or a trigger")
	}
	if !slices.Contains(Statuses, it.Status) {
		fe.add("status", "want one of %s", joinStrings(Statuses))
	}
	if err := fe.err(); err != nil {
		return PlanItem{}, err
	}
	if from != "" && !CanTransition(from, it.Status) {
		return PlanItem{}, &ConflictError{
			Code:    CodeInvalidTransition,
			Message: fmt.Sprintf("a %s item cannot become %s", from, it.Status),
			Details: map[string]any{"from": from, "to": it.Status, "allowed": Transitions[from]},
		}
	}
	return it, nil
}

// sameIntent reports whether two items ask for the same thing.
func sameIntent(a, b PlanItem) bool {
	samePrice := (a.TargetPrice == nil) == (b.TargetPrice == nil) && (a.TargetPrice == nil || *a.TargetPrice == *b.TargetPrice)
	return a.Action == b.Action && a.Ticker == b.Ticker && samePrice && a.TargetDate == b.TargetDate && a.Trigger == b.Trigger
}

func joinStrings[S ~string](l []S) string {
	s := make([]string, len(l))
	for i, v := range l {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}

// Plan is a portfolio's list of intended actions, in the order they were
// added.
type Plan struct {
	Items []PlanItem `json:"items"`
}

func (p Plan) normalized() Plan {
	if p.Items == nil {
		p.Items = []PlanItem{}
	}
	return p
}

func (p Plan) find(id string) int {
	return slices.IndexFunc(p.Items, func(it PlanItem) bool { return it.ID == id })
}

// PlanDoc is a stored plan with its version metadata.
type PlanDoc struct {
	Meta
	Plan Plan `json:"plan"`
}

// PlanVersion is the content of one retained version.
type PlanVersion struct {
	Portfolio string      `json:"portfolio"`
	Info      VersionInfo `json:"info"`
	Plan      Plan        `json:"plan"`
}

// Plans stores one plan per portfolio.
type Plans struct {
	e   *engine[Plan]
	now func() time.Time
}

// Get returns the portfolio's plan; an error wrapping sdk.ErrNotFound when
// it has none (or it was deleted).
func (s *Plans) Get(ctx context.Context, c Caller, portfolio string) (PlanDoc, error) {
	p, m, err := s.e.get(ctx, c, portfolio)
	if err != nil {
		return PlanDoc{}, err
	}
	return PlanDoc{Meta: m, Plan: p.normalized()}, nil
}

// GetItem returns one item and the plan's metadata. A missing plan or item
// wraps sdk.ErrNotFound.
func (s *Plans) GetItem(ctx context.Context, c Caller, portfolio, id string) (PlanItem, Meta, error) {
	p, m, err := s.e.get(ctx, c, portfolio)
	if err != nil {
		return PlanItem{}, Meta{}, err
	}
	i := p.find(id)
	if i < 0 {
		return PlanItem{}, Meta{}, s.noItem(portfolio, id)
	}
	return p.Items[i], m, nil
}

func (s *Plans) noItem(portfolio, id string) error {
	return notFound("the plan of portfolio %q has no item %q", portfolio, id)
}

// AddItem adds an item with a new id, creating the plan when there is none.
// An open item (pending or triggered) with the same action, ticker, targets
// and trigger is a duplicate: a *ConflictError whose Details hold its id.
func (s *Plans) AddItem(ctx context.Context, c Caller, portfolio string, p PlanItemPatch, o WriteOpts) (PlanItem, Meta, error) {
	id, err := newItemID()
	if err != nil {
		return PlanItem{}, Meta{}, err
	}
	var added PlanItem
	_, m, err := s.e.mutate(ctx, c, portfolio, o, func(cur Plan, _ bool) (*Plan, VersionInfo, error) {
		now := s.now().UTC()
		it, err := p.apply(PlanItem{ID: id, CreatedAt: now, UpdatedAt: now}, "")
		if err != nil {
			return nil, VersionInfo{}, err
		}
		for _, x := range cur.Items {
			if x.Status.Open() && sameIntent(x, it) {
				return nil, VersionInfo{}, &ConflictError{Code: CodeDuplicate,
					Message: fmt.Sprintf("the plan already has an open item %s for %s %s with the same targets", x.ID, x.Action, x.Ticker),
					Details: map[string]string{"existing_id": x.ID}}
			}
		}
		if len(cur.Items) >= MaxPlanItems {
			return nil, VersionInfo{}, &ConflictError{Code: CodeLimit, Message: fmt.Sprintf("a plan holds at most %d items; delete finished ones first", MaxPlanItems)}
		}
		cur.Items = append(cur.Items, it)
		added = it
		return &cur, VersionInfo{Change: fmt.Sprintf("add item %s (%s %s)", id, it.Action, it.Ticker)}, nil
	})
	if err != nil {
		return PlanItem{}, Meta{}, err
	}
	return added, m, nil
}

// UpdateItem merges the patch into an item. A status change must follow
// Transitions (otherwise a *ConflictError); a patch that changes nothing
// writes no new version.
func (s *Plans) UpdateItem(ctx context.Context, c Caller, portfolio, id string, p PlanItemPatch, o WriteOpts) (PlanItem, Meta, error) {
	var out PlanItem
	_, m, err := s.e.mutate(ctx, c, portfolio, o, func(cur Plan, exists bool) (*Plan, VersionInfo, error) {
		if !exists {
			return nil, VersionInfo{}, s.e.missing(portfolio)
		}
		i := cur.find(id)
		if i < 0 {
			return nil, VersionInfo{}, s.noItem(portfolio, id)
		}
		old := cur.Items[i]
		it, err := p.apply(old, old.Status)
		if err != nil {
			return nil, VersionInfo{}, err
		}
		if sameJSON(it, old) {
			out = old
			return nil, VersionInfo{}, errNoChange
		}
		it.UpdatedAt = s.now().UTC()
		cur.Items[i] = it
		out = it
		return &cur, VersionInfo{Change: fmt.Sprintf("update item %s: %s", id, strings.Join(p.fields(), ", "))}, nil
	})
	if err != nil {
		return PlanItem{}, Meta{}, err
	}
	return out, m, nil
}

// DeleteItem removes an item; the plan stays, possibly empty.
func (s *Plans) DeleteItem(ctx context.Context, c Caller, portfolio, id string, o WriteOpts) (Meta, error) {
	_, m, err := s.e.mutate(ctx, c, portfolio, o, func(cur Plan, exists bool) (*Plan, VersionInfo, error) {
		if !exists {
			return nil, VersionInfo{}, s.e.missing(portfolio)
		}
		i := cur.find(id)
		if i < 0 {
			return nil, VersionInfo{}, s.noItem(portfolio, id)
		}
		cur.Items = slices.Delete(cur.Items, i, i+1)
		return &cur, VersionInfo{Change: "delete item " + id}, nil
	})
	return m, err
}

// Delete deletes the whole plan, recording a deletion version that Restore
// can undo.
func (s *Plans) Delete(ctx context.Context, c Caller, portfolio string, o WriteOpts) (Meta, error) {
	return s.e.remove(ctx, c, portfolio, o)
}

// History lists the retained versions, newest first.
func (s *Plans) History(ctx context.Context, c Caller, portfolio string) (History, error) {
	return s.e.history(ctx, c, portfolio)
}

// Version returns the content of one retained version.
func (s *Plans) Version(ctx context.Context, c Caller, portfolio string, version int) (PlanVersion, error) {
	p, info, err := s.e.version(ctx, c, portfolio, version)
	if err != nil {
		return PlanVersion{}, err
	}
	return PlanVersion{Portfolio: portfolio, Info: info, Plan: p.normalized()}, nil
}

// Restore makes an earlier version current again, as a new version. Item
// statuses come back as they were: a restore is an undo, not a transition.
func (s *Plans) Restore(ctx context.Context, c Caller, portfolio string, version int, o WriteOpts) (PlanDoc, error) {
	p, m, err := s.e.restore(ctx, c, portfolio, version, o)
	if err != nil {
		return PlanDoc{}, err
	}
	return PlanDoc{Meta: m, Plan: p.normalized()}, nil
}

func newItemID() (string, error) {
	b := make([]byte, planItemIDSize)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating an item id: %w", err)
	}
	return hex.EncodeToString(b), nil
}
