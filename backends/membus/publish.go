package membus

import (
	"context"
	"fmt"

	"github.com/busway/busway/bus/driver"
	"github.com/busway/busway/bus/subject"
)

// Publish queues m to every matching plain subscription and to one member
// of each matching group. It copies m's header and data once and keeps no
// reference to m: each receiver gets its own header map, and shares the
// data copy, which it must not modify. Publish returns when the message is
// queued; see the package documentation for full queues.
func (c *Conn) Publish(ctx context.Context, m *driver.Message) error {
	_, err := c.publish(ctx, m, m.Reply)
	return err
}

// publish sends m with the given reply subject and returns how many
// subscriptions it was queued to.
func (c *Conn) publish(ctx context.Context, m *driver.Message, reply string) (int, error) {
	if c.closed.Load() {
		return 0, fmt.Errorf("membus: publish to %q: %w", m.Subject, driver.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("membus: publish to %q: %w", m.Subject, err)
	}
	text, nlens, err := c.check(m, reply)
	if err != nil {
		return 0, err
	}
	r, inbox := c.b.route(m.Subject)
	if r.empty() && inbox == nil {
		return 0, nil
	}
	env, buf := newEnvelope(m.Data, text)
	env.subject, env.reply = m.Subject, reply
	env.hdr.fill(m.Header, buf, nlens)
	if inbox != nil {
		resp := env.message(1, true)
		select {
		case inbox <- &resp:
		default: // the request already has its response
		}
	}
	return c.fanOut(ctx, r, env)
}

// check validates m and returns what copying its header takes (see
// headerSize).
func (c *Conn) check(m *driver.Message, reply string) (text, nlens int, err error) {
	var hsize int
	if err := subject.Validate(m.Subject); err != nil {
		return 0, 0, fmt.Errorf("membus: publish: %w", err)
	}
	if reply != "" {
		if err := subject.Validate(reply); err != nil {
			return 0, 0, fmt.Errorf("membus: publish to %q: reply: %w", m.Subject, err)
		}
	}
	text, nlens, hsize, err = headerSize(m.Header)
	if err != nil {
		return 0, 0, fmt.Errorf("membus: publish to %q: %w", m.Subject, err)
	}
	if total := hsize + len(m.Data); total > c.opts.MaxPayload {
		return 0, 0, fmt.Errorf("membus: publish to %q: %w: %d bytes (headers %d + body %d) over the limit of %d",
			m.Subject, driver.ErrPayloadTooLarge, total, hsize, len(m.Data), c.opts.MaxPayload)
	}
	return text, nlens, nil
}

// fanOut queues env to every plain subscription of r and to one member of
// each group of r. Past a full queue (policy Error) or a subscription
// drained while Publish waited, it goes on and returns the first error at
// the end; the end of ctx or of the publishing Conn stops it at once.
func (c *Conn) fanOut(ctx context.Context, r *route, env *envelope) (int, error) {
	n := 0
	var first error
	spare := &env.first // saves an allocation for the first target
	next := func() *delivery {
		d := newDelivery(env, 1, spare)
		spare = nil
		return d
	}
	note := func(ok bool, err error) bool {
		switch {
		case ok:
			n++
		case err == nil:
		case first == nil:
			first = err
		}
		return err != nil && (ctx.Err() != nil || c.closed.Load())
	}
	for _, s := range r.plain {
		if note(c.toPlain(ctx, s, next())) {
			return n, first
		}
	}
	for _, g := range r.groups {
		if note(c.toGroup(ctx, g, next())) {
			return n, first
		}
	}
	return n, first
}

// toPlain queues d to s. It reports false with a nil error when s
// unsubscribed before d came, as in NATS, but returns an error wrapping
// driver.ErrClosed when s went away while the publisher waited for room.
func (c *Conn) toPlain(ctx context.Context, s *subscription, d *delivery) (bool, error) {
	_, err := s.offer(d, false)
	switch {
	case err == nil:
		return true, nil
	case err == errGone:
		return false, nil
	case c.opts.Full == Error:
		return false, fullError(s, d)
	}
	switch err = s.push(ctx, d, c); err {
	case nil:
		return true, nil
	case errGone:
		return false, fmt.Errorf("membus: %v was drained while publish to %q waited for room: %w",
			s, d.env.subject, driver.ErrClosed)
	}
	return false, err
}

// toGroup queues d to one open member of g, trying members round-robin and
// waiting (policy Block) on the first full one. It reports false with a nil
// error when no member is open.
func (c *Conn) toGroup(ctx context.Context, g *groupRoute, d *delivery) (bool, error) {
	waited := false
	for {
		n := uint32(len(g.members))
		start := g.next.Add(1) - 1
		var full *subscription
		for i := range n {
			s := g.members[(start+i)%n]
			switch _, err := s.offer(d, false); {
			case err == nil:
				return true, nil
			case err == errFull && full == nil:
				full = s
			}
		}
		if full == nil {
			// The route may predate a join: look again before giving up.
			fresh, _ := c.b.route(d.env.subject)
			if fg := fresh.group(g.name); fg != nil && fg != g {
				g = fg
				continue
			}
			if waited {
				return false, fmt.Errorf("membus: group %q was drained while publish to %q waited for room: %w",
					g.name, d.env.subject, driver.ErrClosed)
			}
			return false, nil
		}
		if c.opts.Full == Error {
			return false, fullError(full, d)
		}
		switch err := full.push(ctx, d, c); err {
		case nil:
			return true, nil
		case errGone: // try the members left
			waited = true
		default:
			return false, err
		}
	}
}

func fullError(s *subscription, d *delivery) error {
	return fmt.Errorf("membus: publish to %q: %v already has %d messages queued: %w",
		d.env.subject, s, s.capacity, driver.ErrBufferFull)
}
