package natsbus_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/busway/busway/backends/natsbus"
	"github.com/busway/busway/backends/natsbus/embedded"
	"github.com/busway/busway/bus"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// failoverStream is the replicated stream of the failover test.
const failoverStream = "FAILOVER"

// TestJetStreamClusterLeaderFailover publishes without pause to an R3 file
// stream on a three-node cluster while the stream's leader is killed, a
// new leader takes over, and the old leader comes back. Every publish the
// server acknowledged reaches the group's handler, and the stream holds
// every event id once, although publishes that failed during the failover
// were retried with the same id. A handler may see an id again only as a
// redelivery of the one stored copy (at-least-once).
func TestJetStreamClusterLeaderFailover(t *testing.T) {
	step := 40 // acked publishes between the stages
	if !testing.Short() {
		step = 400
	}
	cluster, err := embedded.StartCluster(3, embedded.Options{StoreDir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(cluster.Stop)

	rec := &failoverRecorder{seen: map[string]int{}}
	sub := failoverBus(t, failoverURL(cluster, true))
	_, err = sub.Subscribe(t.Context(), "failover.>", rec, bus.Group("failover"))
	require.NoError(t, err)
	pub := &failoverPublisher{b: failoverBus(t, failoverURL(cluster, false)), stop: make(chan struct{}), done: make(chan struct{})}
	go pub.run()
	t.Cleanup(pub.halt)
	old, leader := failoverStages(t, cluster, pub, step)
	pub.halt()
	acked := pub.ackedIDs()
	again := acked[:step/2] // stored under the old leader: the new one must drop them
	failoverRepublish(t, pub.b, again)

	missing := rec.waitAll(acked, 15*time.Second)
	assert.Empty(t, missing, "acknowledged event ids never handled")
	stored := failoverStoredIDs(t, sub)
	assert.Empty(t, failoverDuplicates(stored), "event ids stored more than once")
	assert.Subset(t, stored, acked, "acknowledged event ids missing from the stream")
	assert.LessOrEqual(t, len(stored), len(acked)+int(pub.givenUp.Load()), "the stream holds only what was published, once")
	handledTwice, redelivered := rec.stats()
	t.Logf("failover: leader node %d -> %d; acked %d, stored %d, handled %d distinct, publish retries %d, publishes given up %d, published again %d, handled more than once %d (redeliveries %d)",
		old, leader, len(acked), len(stored), rec.distinct(), pub.retries.Load(), pub.givenUp.Load(), len(again), handledTwice, redelivered)
}

// failoverStages waits for step acked publishes, shuts the stream leader
// down, waits for a new leader and step more, restarts the old leader,
// waits for the cluster and step more. It returns the old and new
// leaders' indexes.
func failoverStages(t *testing.T, cluster *embedded.Cluster, pub *failoverPublisher, step int) (old, leader int) {
	t.Helper()
	pub.waitAcked(t, step)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	old, err := cluster.StreamLeader(ctx, failoverStream)
	require.NoError(t, err)
	cluster.Nodes[old].Shutdown()
	leader, err = cluster.StreamLeader(ctx, failoverStream)
	require.NoError(t, err, "a new stream leader after the old one (node %d) went down", old)
	require.NotEqual(t, old, leader)
	pub.waitAcked(t, pub.ackedCount()+step)
	require.NoError(t, cluster.Nodes[old].Restart())
	require.NoError(t, cluster.WaitReady(ctx))
	pub.waitAcked(t, pub.ackedCount()+step)
	return old, leader
}

// failoverRepublish publishes events with the given ids again; each must
// succeed (the server acknowledges a duplicate without storing it).
func failoverRepublish(t *testing.T, b *bus.Bus, ids []string) {
	t.Helper()
	for _, id := range ids {
		m := bus.NewMessage("failover.orders", "com.example.failover.v1", nil)
		m.Event.ID = id
		require.NoError(t, b.Publish(t.Context(), m), "publish %s again", id)
	}
}

// failoverURL lists the cluster's nodes for a jetstream:// connection,
// reversed when reverse is set, so the two buses tend to start on
// different nodes.
func failoverURL(c *embedded.Cluster, reverse bool) string {
	urls := strings.Split(c.URL(), ",")
	if reverse {
		slices.Reverse(urls)
	}
	return strings.Join(urls, ",")
}

// failoverBus opens a JetStream bus on the failover stream that reconnects
// quickly and forever, closed in t.Cleanup.
func failoverBus(t *testing.T, url string) *bus.Bus {
	t.Helper()
	c, err := natsbus.Open(t.Context(), natsbus.Config{
		URL:           url,
		ReconnectWait: 50 * time.Millisecond,
		MaxReconnects: -1,
		Logger:        quiet,
		JetStream: &natsbus.JetStreamConfig{
			Stream:  natsbus.StreamConfig{Name: failoverStream, Subjects: []string{"failover.>"}, Storage: "file", Replicas: 3},
			AckWait: time.Second, // an ack lost in the failover comes back soon
		},
	})
	require.NoError(t, err)
	b := bus.New(c, bus.Logger(quiet))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		assert.NoError(t, b.Close(ctx))
	})
	return b
}

// failoverPublisher publishes events with unique ids until halted. A
// publish that fails is retried with the same id (the stream drops a
// second copy); after failoverTries failures the id is given up.
type failoverPublisher struct {
	b          *bus.Bus
	stop, done chan struct{}
	once       sync.Once

	mu      sync.Mutex
	acked   []string
	retries atomic.Int64
	givenUp atomic.Int64
}

const failoverTries = 10

func (p *failoverPublisher) run() {
	defer close(p.done)
	for i := 0; ; i++ {
		m := bus.NewMessage("failover.orders", "com.example.failover.v1", nil)
		m.Event.ID = fmt.Sprintf("evt-%06d", i)
		for try := 1; ; try++ {
			select {
			case <-p.stop:
				return
			default:
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			err := p.b.Publish(ctx, m)
			cancel()
			if err == nil {
				p.mu.Lock()
				p.acked = append(p.acked, m.Event.ID)
				p.mu.Unlock()
				break
			}
			if try == failoverTries {
				p.givenUp.Add(1)
				break
			}
			p.retries.Add(1)
		}
	}
}

// halt stops the publisher and waits for it.
func (p *failoverPublisher) halt() {
	p.once.Do(func() { close(p.stop) })
	<-p.done
}

func (p *failoverPublisher) ackedCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.acked)
}

func (p *failoverPublisher) ackedIDs() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.acked)
}

// waitAcked waits until n publishes were acknowledged.
func (p *failoverPublisher) waitAcked(t *testing.T, n int) {
	t.Helper()
	ok := compatPoll(20*time.Second, func() bool { return p.ackedCount() >= n })
	require.True(t, ok, "%d publishes acknowledged, waiting for %d (retries %d, given up %d)",
		p.ackedCount(), n, p.retries.Load(), p.givenUp.Load())
}

// failoverRecorder is the group's handler: it counts deliveries per event
// id and redeliveries (Attempt > 1).
type failoverRecorder struct {
	mu          sync.Mutex
	seen        map[string]int
	redelivered int
}

// Handle implements bus.Handler.
func (r *failoverRecorder) Handle(_ context.Context, m *bus.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen[m.Event.ID]++
	if m.Attempt() > 1 {
		r.redelivered++
	}
	return nil
}

func (r *failoverRecorder) distinct() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.seen)
}

// stats returns how many ids were handled more than once, and how many
// deliveries were redeliveries.
func (r *failoverRecorder) stats() (handledTwice, redelivered int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range r.seen {
		if n > 1 {
			handledTwice++
		}
	}
	return handledTwice, r.redelivered
}

// waitAll waits until every id was handled, and returns those that were
// not when d passes.
func (r *failoverRecorder) waitAll(ids []string, d time.Duration) []string {
	var missing []string
	compatPoll(d, func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		missing = missing[:0]
		for _, id := range ids {
			if r.seen[id] == 0 {
				missing = append(missing, id)
			}
		}
		return len(missing) == 0
	})
	return missing
}

// failoverStoredIDs reads the whole stream with an ordered consumer and
// returns the event id (ce-id) of every stored message, in order. A
// read that fails (a node just back may not serve yet) starts over.
func failoverStoredIDs(t *testing.T, b *bus.Bus) []string {
	t.Helper()
	var js jetstream.JetStream
	require.True(t, b.As(&js))
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	for {
		ids, err := failoverReadStream(ctx, js)
		if err == nil {
			return ids
		}
		require.NoError(t, ctx.Err(), "reading the stream: %v", err)
		t.Logf("reading the stream: %v; reading again", err)
	}
}

func failoverReadStream(ctx context.Context, js jetstream.JetStream) ([]string, error) {
	st, err := js.Stream(ctx, failoverStream)
	if err != nil {
		return nil, err
	}
	total := st.CachedInfo().State.Msgs
	cons, err := js.OrderedConsumer(ctx, failoverStream, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, total)
	for uint64(len(ids)) < total {
		batch, err := cons.Fetch(int(min(total-uint64(len(ids)), 500)), jetstream.FetchContext(ctx))
		if err != nil {
			return nil, err
		}
		for m := range batch.Messages() {
			ids = append(ids, m.Headers().Get("ce-id"))
		}
		if err := batch.Error(); err != nil {
			return nil, fmt.Errorf("%d of %d messages read: %w", len(ids), total, err)
		}
	}
	return ids, nil
}

// failoverDuplicates returns the ids that occur more than once.
func failoverDuplicates(ids []string) []string {
	count := map[string]int{}
	var dups []string
	for _, id := range ids {
		if count[id]++; count[id] == 2 {
			dups = append(dups, id)
		}
	}
	return dups
}
