package difftest_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/busway/busway/backends/natsbus/embedded"
	"github.com/busway/busway/internal/difftest"
	"github.com/nats-io/nats-server/v2/server"
	"go.uber.org/goleak"
)

var (
	seedFlag = flag.Uint64("difftest.seed", 0, "first sequence seed (0: from the clock; env BUSWAY_DIFFTEST_SEED)")
	nFlag    = flag.Int("difftest.n", 200, "number of sequences (env BUSWAY_DIFFTEST_N)")
	failFlag = flag.Int("difftest.maxfail", 1, "report up to this many diverging sequences before stopping")
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// maxPayload is both backends' limit, small so that messages near it are
// cheap.
const maxPayload = 4096

// TestDifferential runs random sequences of subscribe, publish, request
// and drain on mem:// and on core NATS (an embedded server) and fails on
// the first sequence where they differ, printing it minimised. Sequence i
// has seed first+i; rerun one with -difftest.seed=S -difftest.n=1.
func TestDifferential(t *testing.T) {
	first, n := settings(t)
	srv, err := embedded.Start(embedded.Options{NoJetStream: true, Configure: func(o *server.Options) {
		o.MaxPayload = maxPayload
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	var runs atomic.Int64
	pair := difftest.Pair{
		A:    difftest.Mem(maxPayload),
		B:    difftest.NATS(srv.URL()),
		Name: func() string { return fmt.Sprintf("difftest-%d", runs.Add(1)) },
	}
	ctx := context.Background()
	start := time.Now()
	var stats difftest.Stats
	failures := 0
	for i := range n {
		seq := difftest.Generate(first+uint64(i), difftest.GenConfig{MaxPayload: maxPayload})
		diff, obs := pair.Check(ctx, seq)
		stats.Add(obs)
		if diff == "" {
			continue
		}
		min, mdiff := pair.Minimise(ctx, seq, diff)
		t.Errorf("mem and nats differ on sequence seed %d (%d ops; rerun with -difftest.seed=%d -difftest.n=1).\nMinimised %v\ndifference:\n%s",
			seq.Seed, len(seq.Ops), seq.Seed, min, mdiff)
		if failures++; failures >= *failFlag {
			t.FailNow()
		}
	}
	t.Logf("%d sequences from seed %d agree (%v): %v", n, first, time.Since(start).Round(time.Millisecond), &stats)
}

// settings returns the first seed and the number of sequences from the
// flags or the environment.
func settings(t *testing.T) (uint64, int) {
	first, n := *seedFlag, *nFlag
	if v := os.Getenv("BUSWAY_DIFFTEST_SEED"); v != "" && first == 0 {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("BUSWAY_DIFFTEST_SEED: %v", err)
		}
		first = s
	}
	if v := os.Getenv("BUSWAY_DIFFTEST_N"); v != "" {
		s, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("BUSWAY_DIFFTEST_N: %v", err)
		}
		n = s
	}
	if first == 0 {
		first = uint64(time.Now().UnixNano())
	}
	t.Logf("first seed %d, %d sequences", first, n)
	return first, n
}
