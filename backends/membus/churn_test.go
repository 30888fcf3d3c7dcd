package membus

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/busway/busway/bus/driver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Group members join and drain (gracefully and hard, at random moments)
// while messages are published, naked, delayed and left unsettled. Every
// message whose Publish returned nil is acked exactly once by the end: none
// lost to a stale route or a drained member, none handled twice. The random
// pauses perturb the interleaving; they synchronise nothing.
func TestGroupAccountingUnderChurn(t *testing.T) {
	name := t.Name()
	c := open(t, Options{Name: name})
	const n = 3000
	var mu sync.Mutex
	acks := map[int]int{}
	allAcked := make(chan struct{})
	ack := func(m *driver.Message) {
		id, _ := strconv.Atoi(string(m.Data))
		if m.Acker.Ack(context.Background()) == nil {
			mu.Lock()
			acks[id]++
			if len(acks) == n && acks[id] == 1 {
				close(allAcked)
			}
			mu.Unlock()
		}
	}
	var nakErrs []error
	handler := func(m *driver.Message) {
		ctx := context.Background()
		var err error
		switch r := rand.IntN(10); {
		case r < 5:
			ack(m)
			return
		case r < 7:
			err = m.Acker.Nak(ctx)
		case r < 9:
			err = m.Acker.(driver.DelayNaker).NakWithDelay(ctx, time.Duration(rand.IntN(3))*time.Millisecond)
		default: // unsettled: nak
		}
		if err != nil {
			mu.Lock()
			nakErrs = append(nakErrs, err)
			mu.Unlock()
		}
	}
	first, err := c.Subscribe(context.Background(), driver.SubscribeOptions{Subject: "s", Group: "g"}, handler)
	require.NoError(t, err)
	subs := []driver.Subscription{first}
	pubDone := make(chan struct{})
	go func() {
		defer close(pubDone)
		for i := range n {
			assert.NoError(t, c.Publish(context.Background(), &driver.Message{Subject: "s", Data: []byte(fmt.Sprint(i))}))
		}
	}()
	var drainErrs []error
	for k := 0; ; k++ {
		s, err := c.Subscribe(context.Background(), driver.SubscribeOptions{Subject: "s", Group: "g", Concurrency: 1 + rand.IntN(3)}, handler)
		require.NoError(t, err)
		subs = append(subs, s)
		time.Sleep(time.Duration(rand.IntN(500)) * time.Microsecond)
		if len(subs) > 1 {
			i := rand.IntN(len(subs))
			victim := subs[i]
			subs = append(subs[:i], subs[i+1:]...)
			ctx, cancel := context.WithTimeout(context.Background(), time.Duration(rand.IntN(300))*time.Microsecond)
			if err := victim.Drain(ctx); err != nil {
				drainErrs = append(drainErrs, err)
			}
			cancel()
		}
		select {
		case <-pubDone:
		default:
			continue
		}
		break
	}
	// Let everything settle with one member that acks all.
	for _, s := range subs {
		if err := s.Drain(cancelled(t)); err != nil { // hard
			drainErrs = append(drainErrs, err)
		}
	}
	final := subscribe(t, c, driver.SubscribeOptions{Subject: "s", Group: "g"}, ack)
	select {
	case <-allAcked:
	case <-time.After(testTimeout):
	}
	require.NoError(t, final.Drain(context.Background()))
	mu.Lock()
	defer mu.Unlock()
	var missing, dup []int
	for i := range n {
		switch acks[i] {
		case 0:
			missing = append(missing, i)
		case 1:
		default:
			dup = append(dup, i)
		}
	}
	require.Empty(t, missing, "lost; %d drain errors, %d nak errors", len(drainErrs), len(nakErrs))
	require.Empty(t, dup, "acked more than once")
}
