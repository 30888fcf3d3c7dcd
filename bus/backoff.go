package bus

import (
	"math"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// Backoff is a retry delay policy: the delay after the given failed
// attempt (1 for the first). The bus uses it between redeliveries
// (RetryBackoff) and middleware.Retry between in-process retries.
type Backoff interface {
	Delay(attempt int) time.Duration
}

// ExponentialBackoff is the usual Backoff: InitialInterval after the first
// failure, multiplied by Multiplier after each further one, capped at
// MaxInterval, then randomised by ±RandomizationFactor so that consumers
// failing together do not retry in lockstep. The delays come from
// github.com/cenkalti/backoff/v5's ExponentialBackOff (overflow-safe
// capped growth, randomisation); this type makes them a function of the
// attempt number, as redeliveries need, instead of a stateful sequence.
type ExponentialBackoff struct {
	// InitialInterval is the delay after the first failure; 0 means no
	// delay at all.
	InitialInterval time.Duration
	// MaxInterval caps the delay before randomisation; 0 means 24 hours.
	MaxInterval time.Duration
	// Multiplier grows the delay after each failure; 0 means 2, a value
	// below 1 means 1 (a constant delay).
	Multiplier float64
	// RandomizationFactor spreads each delay over [d·(1-f), d·(1+f)];
	// clamped to [0, 1].
	RandomizationFactor float64
}

// maxBackoff caps an ExponentialBackoff without MaxInterval.
const maxBackoff = 24 * time.Hour

// maxBackoffSteps bounds the work for a very high attempt number; the
// delay has long reached MaxInterval by then for any useful Multiplier.
const maxBackoffSteps = 1000

// Delay returns the delay after the given failed attempt.
func (b ExponentialBackoff) Delay(attempt int) time.Duration {
	if b.InitialInterval <= 0 {
		return 0
	}
	eb := backoff.ExponentialBackOff{
		InitialInterval:     b.InitialInterval,
		MaxInterval:         b.MaxInterval,
		Multiplier:          b.Multiplier,
		RandomizationFactor: b.RandomizationFactor,
	}
	if eb.MaxInterval <= 0 {
		eb.MaxInterval = maxBackoff
	}
	eb.InitialInterval = min(eb.InitialInterval, eb.MaxInterval)
	switch {
	case eb.Multiplier <= 0 || math.IsNaN(eb.Multiplier):
		eb.Multiplier = 2
	case eb.Multiplier < 1:
		eb.Multiplier = 1
	}
	if math.IsNaN(eb.RandomizationFactor) {
		eb.RandomizationFactor = 0
	}
	eb.RandomizationFactor = min(max(eb.RandomizationFactor, 0), 1)
	eb.Reset()
	d := eb.NextBackOff()
	for i := 1; i < min(attempt, maxBackoffSteps); i++ {
		d = eb.NextBackOff()
	}
	return d
}

// ConstantBackoff is a Backoff with the same delay after every failure.
type ConstantBackoff time.Duration

// Delay returns the constant delay.
func (c ConstantBackoff) Delay(int) time.Duration { return time.Duration(c) }

// BackoffFunc adapts a function to Backoff.
type BackoffFunc func(attempt int) time.Duration

// Delay returns f(attempt).
func (f BackoffFunc) Delay(attempt int) time.Duration { return f(attempt) }
