package difftest

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Kind is what an operation does.
type Kind int

// The operations a sequence is made of.
const (
	// Subscribe starts a subscription (plain or in a group).
	Subscribe Kind = iota
	// Publish publishes one message.
	Publish
	// Request sends a request and waits for the first answer.
	Request
	// Drain drains a subscription started earlier in the sequence.
	Drain
)

func (k Kind) String() string {
	switch k {
	case Subscribe:
		return "subscribe"
	case Publish:
		return "publish"
	case Request:
		return "request"
	case Drain:
		return "drain"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Outcome is what a subscription's handler does with a message that is
// not a dead-letter copy (those it always accepts, so that a dead-letter
// subject its own pattern matches cannot loop).
type Outcome int

// Handler outcomes.
const (
	// OK accepts the message; a request is answered with Respond.
	OK Outcome = iota
	// Fail returns an error (retryable, but every subscription has
	// MaxAttempts 1, so it is final at once on every backend).
	Fail
	// Permanent returns bus.Permanent(err).
	Permanent
)

func (o Outcome) String() string {
	return [...]string{"ok", "fail", "permanent"}[o]
}

// Profile is how a subscription handles messages. Members of one group
// share their group's profile, so which member gets a message cannot
// change what happens to it.
type Profile struct {
	Outcome    Outcome
	DeadLetter string // dead-letter subject, or ""
	EmptyReply bool   // answer requests with no data (an empty body)
	Echo       bool   // copy the request's headers into the answer
}

func (p Profile) String() string {
	s := "outcome=" + p.Outcome.String()
	if p.DeadLetter != "" {
		s += fmt.Sprintf(" dead-letter=%q", p.DeadLetter)
	}
	if p.EmptyReply {
		s += " empty-reply"
	}
	if p.Echo {
		s += " echo"
	}
	return s
}

// Op is one step of a sequence. ID is stable across minimisation: it
// names the subscription a Subscribe starts (and a Drain refers to) and
// the message a Publish or Request sends.
type Op struct {
	ID      int
	Kind    Kind
	Client  int    // which of the two buses runs it
	Subject string // Publish, Request: the subject; Subscribe: the pattern
	Group   string // Subscribe
	Profile Profile
	Target  int // Drain: the ID of the Subscribe
	Header  map[string][]string
	Body    int // Publish, Request: body size in bytes; -1 for no data
}

func (o Op) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "#%d c%d %v", o.ID, o.Client, o.Kind)
	switch o.Kind {
	case Subscribe:
		fmt.Fprintf(&b, " %s", quoteLong(o.Subject))
		if o.Group != "" {
			fmt.Fprintf(&b, " group=%s", quoteLong(o.Group))
		}
		fmt.Fprintf(&b, " %v", o.Profile)
	case Publish, Request:
		fmt.Fprintf(&b, " %s body=%d", quoteLong(o.Subject), o.Body)
		if len(o.Header) > 0 {
			fmt.Fprintf(&b, " header=%s", formatHeader(o.Header))
		}
	case Drain:
		fmt.Fprintf(&b, " #%d", o.Target)
	}
	return b.String()
}

// quoteLong quotes s, abbreviating a long one to its length.
func quoteLong(s string) string {
	if len(s) > 64 {
		return fmt.Sprintf("%q...(%d bytes)", s[:24], len(s))
	}
	return fmt.Sprintf("%q", s)
}

// formatHeader renders h with sorted keys, for keys and reports.
func formatHeader(h map[string][]string) string {
	keys := slices.Sorted(maps.Keys(h))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%q:%q", k, h[k])
	}
	return "{" + strings.Join(parts, " ") + "}"
}

// Sequence is a list of operations with the seed that generated it.
type Sequence struct {
	Seed uint64
	Ops  []Op
}

func (s Sequence) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sequence (seed %d, %d ops):\n", s.Seed, len(s.Ops))
	for _, o := range s.Ops {
		fmt.Fprintf(&b, "  %v\n", o)
	}
	return b.String()
}

// without returns s with the ops at the given indexes left out.
func (s Sequence) without(drop map[int]bool) Sequence {
	out := Sequence{Seed: s.Seed}
	for i, o := range s.Ops {
		if !drop[i] {
			out.Ops = append(out.Ops, o)
		}
	}
	return out
}
