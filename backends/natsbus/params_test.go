package natsbus_test

import (
	"context"
	"errors"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/busway/busway/backends/natsbus"
	"github.com/busway/busway/bus"
)

// paramTestParse parses raw with natsbus.ParseURL.
func paramTestParse(t *testing.T, raw string) (natsbus.Config, error) {
	t.Helper()
	u, err := url.Parse(raw)
	require.NoError(t, err, "url.Parse(%q)", raw)
	return natsbus.ParseURL(u)
}

// paramTestCase is one URL parameter: a URL setting it and what the Config
// must then hold.
type paramTestCase struct {
	param string
	url   string
	check func(t *testing.T, c natsbus.Config)
}

var paramTestTime = time.Date(2025, 3, 4, 5, 6, 7, 800, time.UTC)

// paramTestCases covers every parameter of the table in params.go, on the
// scheme it belongs to. TestParamEveryParameterIsTested checks that none
// is missing.
var paramTestCases = []paramTestCase{
	{"name", "nats://h:4222?name=billing", func(t *testing.T, c natsbus.Config) { assert.Equal(t, "billing", c.Name) }},
	{"connect_timeout", "nats://h:4222?connect_timeout=750ms", func(t *testing.T, c natsbus.Config) {
		assert.Equal(t, 750*time.Millisecond, c.ConnectTimeout)
	}},
	{"reconnect_wait", "nats://h:4222?reconnect_wait=50ms", func(t *testing.T, c natsbus.Config) {
		assert.Equal(t, 50*time.Millisecond, c.ReconnectWait)
	}},
	{"max_reconnects", "nats://h:4222?max_reconnects=-1", func(t *testing.T, c natsbus.Config) { assert.Equal(t, -1, c.MaxReconnects) }},
	{"reconnect_buffer", "nats://h:4222?reconnect_buffer=1024", func(t *testing.T, c natsbus.Config) {
		assert.Equal(t, 1024, c.ReconnectBufSize)
	}},
	{"drain_timeout", "nats://h:4222?drain_timeout=3s", func(t *testing.T, c natsbus.Config) { assert.Equal(t, 3*time.Second, c.DrainTimeout) }},
	{"tls_first", "nats://h:4222?tls_first=true", func(t *testing.T, c natsbus.Config) { assert.True(t, c.Auth.TLSFirst) }},
	{"stream", "jetstream://h:4222?stream=ORDERS", func(t *testing.T, c natsbus.Config) { assert.Equal(t, "ORDERS", c.JetStream.Stream.Name) }},
	{"subjects", "jetstream://h:4222?stream=S&subjects=orders.>,+billing.*+&subjects=audit", func(t *testing.T, c natsbus.Config) {
		assert.Equal(t, []string{"orders.>", "billing.*", "audit"}, c.JetStream.Stream.Subjects)
	}},
	{"storage", "jetstream://h:4222?stream=S&storage=memory", func(t *testing.T, c natsbus.Config) {
		assert.Equal(t, "memory", c.JetStream.Stream.Storage)
	}},
	{"replicas", "jetstream://h:4222?stream=S&replicas=3", func(t *testing.T, c natsbus.Config) { assert.Equal(t, 3, c.JetStream.Stream.Replicas) }},
	{"retention", "jetstream://h:4222?stream=S&retention=workqueue", func(t *testing.T, c natsbus.Config) {
		assert.Equal(t, "workqueue", c.JetStream.Stream.Retention)
	}},
	{"max_age", "jetstream://h:4222?stream=S&max_age=24h", func(t *testing.T, c natsbus.Config) {
		assert.Equal(t, 24*time.Hour, c.JetStream.Stream.MaxAge)
	}},
	{"max_bytes", "jetstream://h:4222?stream=S&max_bytes=8589934592", func(t *testing.T, c natsbus.Config) {
		assert.Equal(t, int64(8<<30), c.JetStream.Stream.MaxBytes)
	}},
	{"max_msgs", "jetstream://h:4222?stream=S&max_msgs=100000", func(t *testing.T, c natsbus.Config) {
		assert.Equal(t, int64(100000), c.JetStream.Stream.MaxMsgs)
	}},
	{"duplicates", "jetstream://h:4222?stream=S&duplicates=5m", func(t *testing.T, c natsbus.Config) {
		assert.Equal(t, 5*time.Minute, c.JetStream.Stream.Duplicates)
	}},
	{"create", "jetstream://h:4222?stream=S&create=false", func(t *testing.T, c natsbus.Config) { assert.True(t, c.JetStream.NoCreate) }},
	{"ack_wait", "jetstream://h:4222?stream=S&ack_wait=10s", func(t *testing.T, c natsbus.Config) {
		assert.Equal(t, 10*time.Second, c.JetStream.AckWait)
	}},
	{"max_deliver", "jetstream://h:4222?stream=S&max_deliver=7", func(t *testing.T, c natsbus.Config) { assert.Equal(t, 7, c.JetStream.MaxDeliver) }},
	{"max_ack_pending", "jetstream://h:4222?stream=S&max_ack_pending=64", func(t *testing.T, c natsbus.Config) {
		assert.Equal(t, 64, c.JetStream.MaxAckPending)
	}},
	{"inactive_threshold", "jetstream://h:4222?stream=S&inactive_threshold=90s", func(t *testing.T, c natsbus.Config) {
		assert.Equal(t, 90*time.Second, c.JetStream.InactiveThreshold)
	}},
	{"pull_max_messages", "jetstream://h:4222?stream=S&pull_max_messages=10", func(t *testing.T, c natsbus.Config) {
		assert.Equal(t, 10, c.JetStream.PullMaxMessages)
	}},
	{"publish_ack_timeout", "jetstream://h:4222?stream=S&publish_ack_timeout=5s", func(t *testing.T, c natsbus.Config) {
		assert.Equal(t, 5*time.Second, c.JetStream.PublishAckTimeout)
	}},
	{"async_max_pending", "jetstream://h:4222?stream=S&async_max_pending=256", func(t *testing.T, c natsbus.Config) {
		assert.Equal(t, 256, c.JetStream.PublishAsyncMaxPending)
	}},
	{"start", "jetstream://h:4222?stream=S&start=all", func(t *testing.T, c natsbus.Config) { assert.Equal(t, natsbus.StartAll, c.JetStream.Start) }},
	{"start", "jetstream://h:4222?stream=S&start=new", func(t *testing.T, c natsbus.Config) { assert.Equal(t, natsbus.StartNew, c.JetStream.Start) }},
	{"start", "jetstream://h:4222?stream=S&start=seq:42", func(t *testing.T, c natsbus.Config) {
		assert.Equal(t, natsbus.StartAtSequence, c.JetStream.Start)
		assert.Equal(t, uint64(42), c.JetStream.StartSequence)
	}},
	{"core", "jetstream://h:4222?core=rpc.>,pricing.*&core=audit", func(t *testing.T, c natsbus.Config) {
		assert.Equal(t, []string{"rpc.>", "pricing.*", "audit"}, c.JetStream.CoreSubjects, "a list, repeatable, no stream needed")
	}},
	{"start", "jetstream://h:4222?stream=S&start=time:" + paramTestTime.Format(time.RFC3339Nano), func(t *testing.T, c natsbus.Config) {
		assert.Equal(t, natsbus.StartAtTime, c.JetStream.Start)
		assert.True(t, paramTestTime.Equal(c.JetStream.StartTime), "start time %v", c.JetStream.StartTime)
	}},
}

func TestParamEachParameterSetsItsField(t *testing.T) {
	for _, tc := range paramTestCases {
		t.Run(tc.param+"/"+tc.url, func(t *testing.T) {
			c, err := paramTestParse(t, tc.url)
			require.NoError(t, err)
			assert.Equal(t, "nats://h:4222", c.URL)
			assert.Equal(t, strings.HasPrefix(tc.url, "jetstream:"), c.JetStream != nil, "JetStream set by the scheme")
			tc.check(t, c)
		})
	}
}

// TestParamEveryParameterIsTested reads the list of known parameters from
// the unknown-parameter error and checks that paramTestCases covers each.
func TestParamEveryParameterIsTested(t *testing.T) {
	_, err := paramTestParse(t, "jetstream://h:4222?stream=S&nonsense=1")
	require.Error(t, err)
	m := regexp.MustCompile(`\(known: ([a-z_, ]+)\)`).FindStringSubmatch(err.Error())
	require.NotNil(t, m, "error lists the known parameters: %v", err)
	tested := map[string]bool{}
	for _, tc := range paramTestCases {
		tested[tc.param] = true
	}
	known := strings.Split(m[1], ", ")
	assert.Len(t, known, len(tested), "known parameters %v", known)
	for _, p := range known {
		assert.True(t, tested[p], "parameter %q has no test case", p)
	}
}

func TestParamDefaultsFromBareURL(t *testing.T) {
	c, err := paramTestParse(t, "nats://127.0.0.1:4222")
	require.NoError(t, err)
	assert.Equal(t, natsbus.Config{URL: "nats://127.0.0.1:4222"}, c)

	c, err = paramTestParse(t, "jetstream://127.0.0.1:4222?stream=S")
	require.NoError(t, err)
	require.NotNil(t, c.JetStream)
	assert.Equal(t, natsbus.JetStreamConfig{Stream: natsbus.StreamConfig{Name: "S"}}, *c.JetStream)
}

func TestParamUnknownParameterIsNamed(t *testing.T) {
	for raw, name := range map[string]string{
		"nats://h:4222?bogus=1":                "bogus",
		"jetstream://h:4222?stream=S&Stream=T": "Stream",
		"nats://h:4222?reconnectwait=1s":       "reconnectwait",
	} {
		_, err := paramTestParse(t, raw)
		require.Error(t, err, raw)
		assert.Contains(t, err.Error(), `unknown URL parameter "`+name+`"`, raw)
	}
}

func TestParamJetStreamParameterOnCoreURL(t *testing.T) {
	for _, p := range []string{"stream=S", "subjects=a.>", "ack_wait=1s", "start=all", "create=false"} {
		_, err := paramTestParse(t, "nats://h:4222?"+p)
		require.Error(t, err, p)
		name := strings.SplitN(p, "=", 2)[0]
		assert.Contains(t, err.Error(), `"`+name+`"`)
		assert.Contains(t, err.Error(), "jetstream:// URLs only")
	}
}

func TestParamRepeatedParameter(t *testing.T) {
	_, err := paramTestParse(t, "jetstream://h:4222?stream=A&stream=B")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"stream" given 2 times`)
}

func TestParamBadValuesNameTheParameter(t *testing.T) {
	for _, tc := range []struct{ query, param, hint string }{
		{"ack_wait=abc", "ack_wait", "duration"},
		{"ack_wait=-1s", "ack_wait", "duration"},
		{"start=bogus", "start", "new, all"},
		{"start=seq:0", "start", "seq:N"},
		{"start=seq:x", "start", "seq:N"},
		{"start=time:yesterday", "start", "RFC3339"},
		{"storage=disk", "storage", "file, memory"},
		{"retention=forever", "retention", "interest"},
		{"replicas=three", "replicas", "integer"},
		{"max_bytes=1GB", "max_bytes", "integer"},
		{"max_msgs=1e6", "max_msgs", "integer"},
		{"create=maybe", "create", "true or false"},
		{"max_ack_pending=lots", "max_ack_pending", "integer"},
		{"inactive_threshold=5", "inactive_threshold", "duration"},
		{"tls_first=yes", "tls_first", "true or false"},
		{"max_reconnects=forever", "max_reconnects", "integer"},
		{"connect_timeout=2", "connect_timeout", "duration"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			_, err := paramTestParse(t, "jetstream://h:4222?stream=S&"+tc.query)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "parameter "+tc.param+"=")
			assert.Contains(t, err.Error(), tc.hint)
		})
	}
}

func TestParamSchemeAndHost(t *testing.T) {
	_, err := natsbus.ParseURL(&url.URL{Scheme: "mem"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `scheme "mem"`)

	_, err = paramTestParse(t, "nats://?name=x")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no server address")

	_, err = paramTestParse(t, "nats://a:4222,,b:4223")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "empty server address")
}

func TestParamMultipleHosts(t *testing.T) {
	for raw, want := range map[string]string{
		"nats://a:4222,b:4223":                     "nats://a:4222,nats://b:4223",
		"nats://10.0.0.1:4222,10.0.0.2:4222,c:1":   "nats://10.0.0.1:4222,nats://10.0.0.2:4222,nats://c:1",
		"jetstream://a:4222,b:4223?stream=ORDERS":  "nats://a:4222,nats://b:4223",
		"nats://[::1]:4222":                        "nats://[::1]:4222",
		"nats://nats-1.example.com:4222,nats-2:42": "nats://nats-1.example.com:4222,nats://nats-2:42",
	} {
		c, err := paramTestParse(t, raw)
		require.NoError(t, err, raw)
		assert.Equal(t, want, c.URL, raw)
	}
}

// TestParamMultipleHostsDial opens a bus on a host list whose first server
// is down: nats.go gets both and connects to the live one.
func TestParamMultipleHostsDial(t *testing.T) {
	srv := startEmbedded(t)
	b, err := bus.Open(t.Context(), "nats://127.0.0.1:1,"+srv.Addr()+"?name=multi")
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, b.Close(context.Background())) })
	nc := coreTestNATS(t, b)
	assert.Equal(t, srv.Addr(), nc.ConnectedAddr())
	assert.Subset(t, nc.Servers(), []string{"nats://127.0.0.1:1", srv.URL()})
}

// paramTestSecret is the credential the URLs below carry; no error may
// show it.
const paramTestSecret = "s3cr3t-Xq9"

func TestParamCredentialsInURLRejected(t *testing.T) {
	for _, raw := range []string{
		"nats://alice:" + paramTestSecret + "@h:4222",
		"nats://" + paramTestSecret + "@h:4222",
		"nats://alice:" + paramTestSecret + "@a:4222,b:4223",
		"jetstream://" + paramTestSecret + "@h:4222?stream=S",
		"nats://h:4222?password=" + paramTestSecret,
		"nats://h:4222?token=" + paramTestSecret,
		"nats://h:4222?creds=/etc/" + paramTestSecret + ".creds",
		"nats://h:4222?nkey=" + paramTestSecret,
		"jetstream://h:4222?stream=S&seed=" + paramTestSecret,
		"nats://h:4222?jwt=" + paramTestSecret,
		"nats://h:4222?name=x&pass=" + paramTestSecret,
		"nats://h:4222?Token=" + paramTestSecret,
		"nats://:" + paramTestSecret + "@h:4222",
	} {
		t.Run(raw, func(t *testing.T) {
			_, err := paramTestParse(t, raw)
			require.Error(t, err)
			assert.ErrorIs(t, err, natsbus.ErrCredentialsInURL)
			assert.NotContains(t, err.Error(), paramTestSecret)

			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			b, err := bus.Open(ctx, raw)
			if b != nil {
				_ = b.Close(ctx)
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, natsbus.ErrCredentialsInURL)
			assert.NotContains(t, err.Error(), paramTestSecret)
		})
	}
}

// TestParamOpenFailsBeforeDialing opens URLs whose parameters are wrong on
// a port nobody listens on: the error is about the parameter, not a
// connection failure.
func TestParamOpenFailsBeforeDialing(t *testing.T) {
	for raw, want := range map[string]string{
		"nats://127.0.0.1:1?bogus=1":                     `unknown URL parameter "bogus"`,
		"nats://127.0.0.1:1?stream=S":                    `"stream" is for jetstream:// URLs only`,
		"jetstream://127.0.0.1:1?stream=S&start=then":    "parameter start=",
		"jetstream://127.0.0.1:1?subjects=a.>":           "subjects given without a stream name",
		"jetstream://127.0.0.1:1?stream=S&core=a..b":     "core subject",
		"jetstream://127.0.0.1:1?stream=A.B":             "invalid stream name",
		"jetstream://127.0.0.1:1?stream=S&subjects=a..b": "stream subject",
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		b, err := bus.Open(ctx, raw)
		cancel()
		if b != nil {
			_ = b.Close(context.Background())
		}
		require.Error(t, err, raw)
		assert.Contains(t, err.Error(), want, raw)
		assert.NotContains(t, err.Error(), "connect to", raw)
		assert.False(t, errors.Is(err, context.DeadlineExceeded), raw)
	}
}

// TestParamErrorShowsURLAsWritten: an error quotes the URL's parameters as
// the user wrote them (subjects=orders.>,billing.>), not re-encoded.
func TestParamErrorShowsURLAsWritten(t *testing.T) {
	_, err := bus.Open(t.Context(), "jetstream://127.0.0.1:1?stream=S&subjects=orders.>,billing.>&bogus=1")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "?stream=S&subjects=orders.>,billing.>&bogus=1")
	assert.NotContains(t, err.Error(), "%3E")
}
