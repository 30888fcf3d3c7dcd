package otelbus_test

import (
	"strings"
	"testing"

	_ "github.com/busway/busway/backends/membus"  // mem://
	_ "github.com/busway/busway/backends/natsbus" // nats://, jetstream://
	"github.com/busway/busway/backends/natsbus/embedded"
)

// backendURLs returns a URL per backend for one test, with a fresh
// embedded server stopped at the end of the test. The JetStream stream
// captures the test subjects; requests (t.rpc.>) stay core.
func backendURLs(t *testing.T) map[string]string {
	t.Helper()
	name := strings.NewReplacer("/", "-", " ", "-").Replace(t.Name())
	srv, err := embedded.Start(embedded.Options{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	return map[string]string{
		"mem":       "mem://" + name,
		"nats":      srv.URL(),
		"jetstream": "jetstream://" + srv.Addr() + "?stream=OT&subjects=t.ok,t.flaky,t.bad,t.dead&core=t.rpc.>",
	}
}
