package cqrs_test

import (
	"context"
	"testing"
	"time"

	"github.com/busway/busway/backends/natsbus/embedded"
	"github.com/busway/busway/cqrs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// On JetStream a dead-letter subject no stream captures (and not declared
// core) makes Run fail at once, naming it, instead of losing dead letters.
func TestDeadLetterSubjectMustBeCaptured(t *testing.T) {
	srv, err := embedded.Start(embedded.Options{StoreDir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(srv.Stop)
	b := openBus(t, "jetstream://"+srv.Addr()+"?stream=DL&subjects=orders.order.>")
	svc := cqrs.New(b, billing)
	require.NoError(t, cqrs.OnEvent(svc, placed, func(context.Context, placedV2) error { return nil }))
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = svc.Run(c)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"billing.dead"`)
	assert.NoError(t, c.Err(), "Run failed at subscribe, it did not wait for ctx")
}
