package bus_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/busway/busway/backends/membus"
	"github.com/busway/busway/bus"
	"github.com/busway/busway/bus/driver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// captured is the URL the test backend was last opened with.
var captured *url.URL

func init() {
	bus.Register("regtest", func(ctx context.Context, u *url.URL) (driver.Conn, error) {
		captured = u
		return membus.Open(membus.Options{})
	})
}

func TestRegisterPanics(t *testing.T) {
	assert.PanicsWithValue(t, "busway: Register called twice for scheme regtest", func() {
		bus.Register("regtest", func(context.Context, *url.URL) (driver.Conn, error) { return nil, nil })
	})
	assert.Panics(t, func() { bus.Register("nilfunc", nil) })
	assert.Contains(t, bus.Schemes(), "regtest")
}

func TestOpenUnknownScheme(t *testing.T) {
	_, err := bus.Open(context.Background(), "kafka://user:hunter2@broker:9092")
	require.ErrorIs(t, err, bus.ErrUnknownScheme)
	assert.ErrorContains(t, err, `"kafka"`)
	assert.ErrorContains(t, err, "regtest", "lists registered schemes")
	assert.ErrorContains(t, err, "import", "hints at the missing import")
	assert.NotContains(t, err.Error(), "hunter2")
	assert.NotContains(t, err.Error(), "user:")
}

func TestOpenBusParams(t *testing.T) {
	ctx := context.Background()
	b, err := bus.Open(ctx, "regtest://x?format=structured&source=/svc/a&keep=1")
	require.NoError(t, err)
	t.Cleanup(func() { b.Close(ctx) })
	assert.Equal(t, "keep=1", captured.RawQuery, "bus-level parameters are removed before the backend sees the URL")

	_, err = bus.Open(ctx, "regtest://x?format=xml")
	assert.ErrorIs(t, err, bus.ErrInvalidURL)
	assert.ErrorContains(t, err, "xml")
}

func TestOpenBackendErrorIsRedacted(t *testing.T) {
	_, err := bus.Open(context.Background(), "mem://name/extra/path?token=s3cret")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "s3cret")
}

func TestOpenParseErrorHidesCredentials(t *testing.T) {
	_, err := bus.Open(context.Background(), "nats://alice:pa ss%zz@host:4222")
	require.ErrorIs(t, err, bus.ErrInvalidURL)
	assert.NotContains(t, err.Error(), "alice")
	assert.NotContains(t, err.Error(), "pa ss")
}

func TestRedact(t *testing.T) {
	cases := map[string][]string{
		"nats://alice:secret@host:4222":         {"secret", "alice"},
		"nats://s3cr3tt0ken@host:4222":          {"s3cr3tt0ken"},
		"jetstream://host?stream=A&token=abc12": {"abc12"},
		"nats://host?password=pw1&nkey=SUAxyz":  {"pw1", "SUAxyz"},
	}
	for raw, secrets := range cases {
		u, err := url.Parse(raw)
		require.NoError(t, err)
		got := bus.Redact(u)
		for _, s := range secrets {
			assert.NotContains(t, got, s, raw)
		}
		assert.Contains(t, got, "host", "keeps what helps debugging")
	}
}

// TestOpenEmptyURLWithoutDefault: with no backend registered as the
// default (package embedded is not imported here), an empty URL is an
// error that says how to get the default.
func TestOpenEmptyURLWithoutDefault(t *testing.T) {
	require.NotContains(t, bus.Schemes(), "embedded")
	_, err := bus.Open(t.Context(), "")
	require.ErrorIs(t, err, bus.ErrInvalidURL)
	assert.Contains(t, err.Error(), "backends/natsbus/embedded")
}

// TestOpenUnknownSchemeHints: the hint is right for every scheme: Busway's
// own backends name their real package, a typo names the scheme meant,
// and anything else gets the general rule.
func TestOpenUnknownSchemeHints(t *testing.T) {
	cases := map[string]string{
		"jetstream://h:4222?stream=S": `"github.com/busway/busway/backends/natsbus" registers jetstream://`,
		"nats://h:4222":               `"github.com/busway/busway/backends/natsbus" registers nats://`,
		"embedded://":                 `"github.com/busway/busway/backends/natsbus/embedded" registers embedded://`,
		"nat://h:4222":                "did you mean nats://?",
		"regtst://x":                  "did you mean regtest://?",
		"kafka://broker:9092":         "import the backend package that registers it",
	}
	for raw, want := range cases {
		_, err := bus.Open(t.Context(), raw)
		require.ErrorIs(t, err, bus.ErrUnknownScheme, raw)
		assert.Contains(t, err.Error(), want, raw)
		assert.NotContains(t, err.Error(), "natbus", raw)
	}
}

func TestRegisterDefaultPanics(t *testing.T) {
	assert.PanicsWithValue(t, "busway: RegisterDefault of unregistered scheme nosuch", func() { bus.RegisterDefault("nosuch") })
}

// TestRedactKeepsQueryAsWritten: errors show the URL's parameters as the
// user wrote them, with secrets hidden.
func TestRedactKeepsQueryAsWritten(t *testing.T) {
	u, err := url.Parse("jetstream://h:4222?stream=S&subjects=orders.>,billing.>&token=abc")
	require.NoError(t, err)
	assert.Equal(t, "jetstream://h:4222?stream=S&subjects=orders.>,billing.>&token=REDACTED", bus.Redact(u))
}
