package bus

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

type kindErr struct{}

func (kindErr) Error() string          { return "no handler for type x" }
func (kindErr) DeadLetterKind() string { return DeadLetterKindUnknownType }

func TestDeadLetterKind(t *testing.T) {
	for _, c := range []struct {
		err       error
		exhausted bool
		want      string
	}{
		{Permanent(errors.New("no")), false, DeadLetterKindPermanent},
		{errors.New("flaky"), false, DeadLetterKindExhausted},
		{errors.New("given up"), true, DeadLetterKindExhausted},
		{fmt.Errorf("%w: bad json", ErrMalformed), false, DeadLetterKindMalformed},
		{&panicError{value: "boom"}, false, DeadLetterKindPanic},
		{fmt.Errorf("slow: %w", context.DeadlineExceeded), false, DeadLetterKindTimeout},
		{fmt.Errorf("wrapped: %w", Permanent(kindErr{})), false, DeadLetterKindUnknownType},
	} {
		assert.Equal(t, c.want, deadLetterKind(c.err, c.exhausted), "%v", c.err)
	}
}
