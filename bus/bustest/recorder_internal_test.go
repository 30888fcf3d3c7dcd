package bustest

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/busway/busway/backends/membus"
	"github.com/busway/busway/bus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fatalTB records a Fatalf and ends the calling goroutine, as testing.T
// does, without failing the real test.
type fatalTB struct {
	testing.TB
	msg chan string
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg <- fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestRecordingWaitFailsOnTimeout(t *testing.T) {
	conn, err := membus.Open(membus.Options{})
	require.NoError(t, err)
	b := bus.New(conn)
	t.Cleanup(func() { assert.NoError(t, b.Close(context.Background())) })
	rec := Recorder(t, b, "orders.>")
	require.NoError(t, b.Publish(t.Context(), bus.NewMessage("orders.eu.created", testType, nil)))
	rec.Wait(1, time.Second)

	fake := &fatalTB{TB: t, msg: make(chan string, 1)}
	rec.t = fake
	go rec.Wait(2, time.Millisecond)
	msg := recv(t, 5*time.Second, fake.msg, "Wait to fail")
	assert.Contains(t, msg, `2 messages on "orders.>", got 1`)
	assert.Contains(t, msg, "orders.eu.created")
}
