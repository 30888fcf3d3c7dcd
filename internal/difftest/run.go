package difftest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/busway/busway/bus"
)

// Timeouts of one run. A correct backend never waits for them: they only
// end waits for something a diverging backend does not do.
const (
	requestTimeout = 500 * time.Millisecond
	drainTimeout   = 5 * time.Second
	markerTimeout  = 2 * time.Second
)

// Observation is what one backend did with a sequence: the result of each
// operation, and the messages each subscription (or group, as a whole)
// handled.
type Observation struct {
	Backend string
	// Results has one line per operation, then the connections' health
	// and Close.
	Results []string
	// Deliveries maps "sub #ID" or "group NAME" to the sorted keys of
	// the messages it handled.
	Deliveries map[string][]string
}

// run is one sequence on one backend.
type run struct {
	b     Backend
	conns [2]*countingConn
	buses [2]*bus.Bus

	mu         sync.Mutex
	subs       map[int]*sub // live subscriptions by Subscribe ID
	deliveries map[string][]string
	received   map[string]map[string]bool // request event id -> receivers
	seen       map[int64]map[int]bool     // marker id -> subscriptions that got it
	notify     chan struct{}              // a marker arrived

	broken     error // the first quiesce failure
	round      atomic.Int64
	nextMarker atomic.Int64
}

// sub is one live subscription of a run.
type sub struct {
	id      int
	client  int
	pattern string
	group   string
	profile Profile
	s       *bus.Subscription
	marker  atomic.Int64 // last marker round it got
}

// who names the receiver of a delivery: a group as a whole, since which
// member gets a message is the backend's choice.
func (s *sub) who() string {
	if s.group != "" {
		return "group " + s.group
	}
	return fmt.Sprintf("sub #%d", s.id)
}

// Run runs seq on a fresh pair of buses of backend b and returns what they
// did. runName must be unique among runs that may overlap.
func Run(ctx context.Context, b Backend, runName string, seq Sequence) *Observation {
	r := &run{
		b: b, subs: map[int]*sub{}, deliveries: map[string][]string{},
		received: map[string]map[string]bool{}, seen: map[int64]map[int]bool{},
		notify: make(chan struct{}, 1),
	}
	obs := &Observation{Backend: b.Name}
	if err := r.open(ctx, runName); err != nil {
		obs.Results = append(obs.Results, "open: "+class(err))
		return obs
	}
	requests := map[int]string{}
	for _, o := range seq.Ops {
		res := r.do(ctx, o)
		if o.Kind == Request {
			requests[len(obs.Results)] = message(o).Event.ID
		}
		obs.Results = append(obs.Results, fmt.Sprintf("#%d %v: %s", o.ID, o.Kind, res))
	}
	if err := r.quiesce(ctx); err != nil {
		obs.Results = append(obs.Results, "quiesce: "+err.Error())
	}
	r.mu.Lock()
	for i, key := range requests {
		if len(r.received[key]) > 1 {
			obs.Results[i] = raced(obs.Results[i])
		}
	}
	r.mu.Unlock()
	obs.Results = append(obs.Results, r.close(ctx)...)
	obs.Deliveries = r.sortedDeliveries()
	return obs
}

func (r *run) open(ctx context.Context, runName string) error {
	for i := range r.conns {
		c, err := r.b.Open(ctx, runName)
		if err != nil {
			r.close(ctx)
			return err
		}
		r.conns[i] = &countingConn{Conn: c}
		r.buses[i] = bus.New(r.conns[i], bus.Logger(quiet), bus.Source("/difftest"))
	}
	return nil
}

// close checks that each connection still works (a request nobody
// answers must fail with no responders), then closes both buses.
func (r *run) close(ctx context.Context) []string {
	var out []string
	for i, b := range r.buses {
		if b == nil {
			continue
		}
		rctx, cancel := context.WithTimeout(ctx, requestTimeout)
		m := bus.NewMessage("difftest.health.check.now", "difftest.health", nil)
		m.Event.ID = fmt.Sprintf("health c%d", i)
		_, err := b.Request(rctx, m)
		cancel()
		out = append(out, fmt.Sprintf("health c%d: %s", i, health(err)))
	}
	if err := r.quiesce(ctx); err != nil {
		out = append(out, "quiesce: "+err.Error())
	}
	for i, b := range r.buses {
		if b == nil {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, drainTimeout)
		out = append(out, fmt.Sprintf("close c%d: %s", i, class(b.Close(cctx))))
		cancel()
	}
	return out
}

// do runs one operation and returns its result.
func (r *run) do(ctx context.Context, o Op) string {
	b := r.buses[o.Client]
	switch o.Kind {
	case Subscribe:
		if err := r.quiesce(ctx); err != nil {
			return "quiesce: " + err.Error()
		}
		return class(r.subscribe(ctx, o))
	case Publish:
		err := b.Publish(ctx, message(o))
		r.flush(o.Client)
		return class(err)
	case Request:
		rctx, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		reply, err := b.Request(rctx, message(o))
		if err != nil {
			return class(err)
		}
		return "answered " + deliveryKey(reply)
	case Drain:
		if err := r.quiesce(ctx); err != nil {
			return "quiesce: " + err.Error()
		}
		return r.drain(ctx, o.Target)
	}
	return "unknown op"
}

func (r *run) subscribe(ctx context.Context, o Op) error {
	s := &sub{id: o.ID, client: o.Client, pattern: o.Subject, group: o.Group, profile: o.Profile}
	opts := []bus.SubscribeOption{bus.MaxAttempts(1), bus.Concurrency(1)}
	if o.Group != "" {
		opts = append(opts, bus.Group(o.Group))
	}
	if o.Profile.DeadLetter != "" {
		opts = append(opts, bus.DeadLetter(o.Profile.DeadLetter))
	}
	bs, err := r.buses[o.Client].Subscribe(ctx, o.Subject, r.handler(s), opts...)
	if err != nil {
		return err
	}
	s.s = bs
	r.mu.Lock()
	r.subs[s.id] = s
	r.mu.Unlock()
	return nil
}

func (r *run) drain(ctx context.Context, id int) string {
	r.mu.Lock()
	s := r.subs[id]
	delete(r.subs, id)
	r.mu.Unlock()
	if s == nil {
		return "no such subscription"
	}
	dctx, cancel := context.WithTimeout(ctx, drainTimeout)
	defer cancel()
	return class(s.s.Drain(dctx))
}

// flush pushes what client i published through the broker; errors show
// up in the next operation on that client.
func (r *run) flush(i int) {
	if r.b.Flush != nil {
		_ = r.b.Flush(r.conns[i].Conn)
	}
}

var fixedTime = time.Date(2025, 1, 2, 3, 4, 5, 123456789, time.UTC)

// message builds the message a Publish or Request op sends.
func message(o Op) *bus.Message {
	var data []byte
	if o.Body >= 0 {
		data = make([]byte, o.Body)
		for i := range data {
			data[i] = 'a' + byte(i%26)
		}
	}
	m := bus.NewMessage(o.Subject, "difftest.msg", data)
	// Fixed attributes: the encoded size must not vary between runs (a
	// time's text is shorter when it ends in zeros).
	m.Event.ID = fmt.Sprintf("op%d", o.ID)
	m.Event.Time = fixedTime
	for k, vs := range o.Header {
		for _, v := range vs {
			m.Header.Add(k, v)
		}
	}
	return m
}

// health is "ok" when a request got an answer or a no-responders notice:
// the connection works.
func health(err error) string {
	var re *bus.RemoteError
	if err == nil || errors.As(err, &re) || errors.Is(err, bus.ErrNoResponders) {
		return "ok"
	}
	return class(err)
}

// raced rewrites the result of a request that several receivers got:
// any of their answers (or failures) may come first.
func raced(res string) string {
	for _, mark := range []string{": answered ", ": remote error: "} {
		if i := strings.Index(res, mark); i >= 0 {
			return res[:i] + ": answered by one of several"
		}
	}
	return res
}

// class names an error by the sentinel it wraps, so that backends can be
// compared; an error that wraps none is shown in full (and will differ).
func class(err error) string {
	if err == nil {
		return "ok"
	}
	var re *bus.RemoteError
	if errors.As(err, &re) {
		return "remote error: " + re.Reason
	}
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			return s.name
		}
	}
	return "unmapped error: " + err.Error()
}

var sentinels = []struct {
	name string
	err  error
}{
	{"ErrInvalidSubject", bus.ErrInvalidSubject},
	{"ErrInvalidHeader", bus.ErrInvalidHeader},
	{"ErrPayloadTooLarge", bus.ErrPayloadTooLarge},
	{"ErrNoResponders", bus.ErrNoResponders},
	{"ErrTimeout", bus.ErrTimeout},
	{"ErrClosed", bus.ErrClosed},
	{"ErrNotSupported", bus.ErrNotSupported},
	{"ErrBufferFull", bus.ErrBufferFull},
	{"context deadline", context.DeadlineExceeded},
}
