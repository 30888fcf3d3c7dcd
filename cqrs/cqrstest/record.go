package cqrstest

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/busway/busway/bus"
	"github.com/busway/busway/cloudevents"
)

// Published is one message seen on the bus.
type Published struct {
	Subject string
	Type    string // CloudEvents type
	ID      string // CloudEvents id
	Data    []byte
	// DeadLetter is set for a copy sent to a dead-letter subject: the
	// subject the original arrived on and the reason it failed.
	DeadLetter *DeadLetter
	Reply      bool // a reply to a request (on an inbox subject)
	Request    bool // a request (query) waiting for a reply
	event      cloudevents.Event
	input      bool // published by the test itself (Send, Publish)
	expected   bool // matched by an assertion
}

// DeadLetter describes a dead-lettered copy.
type DeadLetter struct {
	From, Reason string
	Attempts     int
}

// Outcome is what became of one handling attempt.
type Outcome int

// The outcomes of a handling attempt.
const (
	Acked        Outcome = iota + 1 // the handler returned nil
	Retried                         // it failed; the message was handed back
	DeadLettered                    // it failed for good; sent to the dead-letter subject
)

func (o Outcome) String() string {
	switch o {
	case Acked:
		return "acked"
	case Retried:
		return "retried"
	case DeadLettered:
		return "dead-lettered"
	}
	return "outcome(" + strconv.Itoa(int(o)) + ")"
}

// Handling is one attempt of a service's subscription at a message.
type Handling struct {
	Service string // the service name (h.Service), or "service-N" (the Nth h.Options)
	Subject string
	Type    string
	ID      string
	Attempt int
	Err     error // what the handler returned
	// Outcome and Reason are settled once the bus is idle: Reason is the
	// dead-letter reason, or the error of a retried attempt.
	Outcome Outcome
	Reason  string
}

// spy records every message published on the bus.
func (h *Harness) spy(_ context.Context, m *bus.Message) error {
	p := &Published{Subject: m.Subject, Type: m.Event.Type, ID: m.Event.ID, Data: m.Event.Data,
		Reply: strings.HasPrefix(m.Subject, "_INBOX."), Request: m.IsRequest(), event: m.Event}
	if from := m.Header.Get(bus.DeadLetterSubjectHeader); from != "" {
		n, _ := strconv.Atoi(m.Header.Get(bus.DeadLetterAttemptsHeader))
		p.DeadLetter = &DeadLetter{From: from, Reason: m.Header.Get(bus.DeadLetterReasonHeader), Attempts: n}
	}
	h.mu.Lock()
	h.published = append(h.published, p)
	h.mu.Unlock()
	return nil
}

// recorder is the middleware that records each attempt of a service.
func (h *Harness) recorder(service string) bus.Middleware {
	return func(next bus.Handler) bus.Handler {
		return bus.HandlerFunc(func(ctx context.Context, m *bus.Message) error {
			err := next.Handle(ctx, m)
			h.mu.Lock()
			h.handled = append(h.handled, &Handling{Service: service, Subject: m.Subject,
				Type: m.Event.Type, ID: m.Event.ID, Attempt: m.Attempt(), Err: err})
			h.mu.Unlock()
			return err
		})
	}
}

// settle fills in the outcomes of the recorded attempts and the input
// marks; h.mu must be held. An attempt that failed is dead-lettered when a
// dead-letter copy of its message with its attempt count was published.
func (h *Harness) settle() {
	for _, p := range h.published {
		p.input = p.DeadLetter == nil && !p.Reply && h.inputs[p.ID]
	}
	for _, a := range h.handled {
		switch {
		case a.Err == nil:
			a.Outcome, a.Reason = Acked, ""
		case h.deadLetterOf(a) != nil:
			a.Outcome, a.Reason = DeadLettered, h.deadLetterOf(a).Reason
		default:
			a.Outcome, a.Reason = Retried, a.Err.Error()
		}
	}
}

func (h *Harness) deadLetterOf(a *Handling) *DeadLetter {
	for _, p := range h.published {
		if dl := p.DeadLetter; dl != nil && p.ID == a.ID && dl.From == a.Subject && dl.Attempts == a.Attempt {
			return dl
		}
	}
	return nil
}

// Published returns what was published so far, once the bus is idle, in
// the order the recorder saw it.
func (h *Harness) Published() []Published {
	h.WaitIdle()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.settle()
	out := make([]Published, len(h.published))
	for i, p := range h.published {
		out[i] = *p
	}
	return out
}

// Handled returns every recorded handling attempt with its outcome, once
// the bus is idle.
func (h *Harness) Handled() []Handling {
	h.WaitIdle()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.settle()
	out := make([]Handling, len(h.handled))
	for i, a := range h.handled {
		out[i] = *a
	}
	return out
}

// Report lists what was published and handled, for failure messages.
func (h *Harness) Report() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.settle()
	return h.report(nil)
}

// report formats the records; decode (may be nil) renders the payloads of
// the asserted type. h.mu must be held.
func (h *Harness) report(decode func(p *Published) (string, bool)) string {
	var b strings.Builder
	fmt.Fprintf(&b, "published (%d):\n", len(h.published))
	for i, p := range h.published {
		fmt.Fprintf(&b, "  %d. %s\n", i+1, describe(p, decode))
	}
	if len(h.published) == 0 {
		b.WriteString("  (nothing)\n")
	}
	fmt.Fprintf(&b, "handled (%d):\n", len(h.handled))
	for i, a := range h.handled {
		fmt.Fprintf(&b, "  %d. %s %s on %s (attempt %d): %s", i+1, a.Type, short(a.ID), a.Subject, a.Attempt, a.Outcome)
		if a.Reason != "" {
			fmt.Fprintf(&b, ": %s", a.Reason)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func describe(p *Published, decode func(p *Published) (string, bool)) string {
	payload := string(p.Data)
	if decode != nil {
		if s, ok := decode(p); ok {
			payload = s
		}
	}
	var tags []string
	if p.input {
		tags = append(tags, "test input")
	}
	if p.Reply {
		tags = append(tags, "reply")
	}
	if dl := p.DeadLetter; dl != nil {
		tags = append(tags, fmt.Sprintf("dead letter from %s after %d attempt(s): %s", dl.From, dl.Attempts, dl.Reason))
	}
	s := fmt.Sprintf("%s on %s: %s", p.Type, p.Subject, payload)
	if len(tags) > 0 {
		s += " [" + strings.Join(tags, "; ") + "]"
	}
	return s
}

func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// message rebuilds the published message, for contract Decode.
func (p *Published) message() *bus.Message {
	return &bus.Message{Subject: p.Subject, Event: p.event}
}
