package bus_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/busway/busway/bus"
	"github.com/stretchr/testify/assert"
)

func TestPermanent(t *testing.T) {
	assert.NoError(t, bus.Permanent(nil))
	base := errors.New("schema v9 unknown")
	p := bus.Permanent(base)
	assert.True(t, bus.IsPermanent(p))
	assert.ErrorIs(t, p, base)
	assert.Equal(t, base.Error(), p.Error())
	assert.True(t, bus.IsPermanent(fmt.Errorf("wrapped: %w", p)), "wrapping keeps it permanent")
	assert.Same(t, p, bus.Permanent(p), "no double wrapping")
	assert.False(t, bus.IsPermanent(base))
	assert.True(t, bus.IsPermanent(fmt.Errorf("%w: bad json", bus.ErrMalformed)), "malformed is permanent")
}

func TestRemoteError(t *testing.T) {
	e := &bus.RemoteError{Subject: "svc.get", Reason: "not found"}
	assert.Contains(t, e.Error(), "svc.get")
	assert.Contains(t, e.Error(), "not found")
}

func TestExponentialBackoff(t *testing.T) {
	b := bus.ExponentialBackoff{InitialInterval: 100 * time.Millisecond, MaxInterval: time.Second}
	assert.Equal(t, 100*time.Millisecond, b.Delay(1))
	assert.Equal(t, 200*time.Millisecond, b.Delay(2))
	assert.Equal(t, 800*time.Millisecond, b.Delay(4))
	assert.Equal(t, time.Second, b.Delay(5))
	assert.Equal(t, time.Second, b.Delay(1000), "capped, no overflow")

	j := bus.ExponentialBackoff{InitialInterval: time.Second, Multiplier: 3, RandomizationFactor: 0.5}
	for range 100 {
		d := j.Delay(2)
		assert.GreaterOrEqual(t, d, 1500*time.Millisecond)
		assert.LessOrEqual(t, d, 4500*time.Millisecond)
	}
}

func TestExponentialBackoffNoMaxDoesNotOverflow(t *testing.T) {
	b := bus.ExponentialBackoff{InitialInterval: 100 * time.Millisecond}
	for _, attempt := range []int{38, 100, 1 << 20} {
		d := b.Delay(attempt)
		assert.Positive(t, d, "attempt %d", attempt)
		assert.LessOrEqual(t, d, 24*time.Hour)
	}
}

func TestConstantAndFuncBackoff(t *testing.T) {
	assert.Equal(t, 3*time.Millisecond, bus.ConstantBackoff(3*time.Millisecond).Delay(7))
	assert.Equal(t, 14*time.Millisecond, bus.BackoffFunc(func(a int) time.Duration { return time.Duration(a) * 2 * time.Millisecond }).Delay(7))
	assert.Zero(t, bus.ExponentialBackoff{}.Delay(3), "no initial interval: no delay")
}
