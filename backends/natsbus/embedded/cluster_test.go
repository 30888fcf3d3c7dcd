package embedded_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/busway/busway/backends/natsbus/embedded"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStartClusterFormsJetStreamCluster(t *testing.T) {
	c, err := embedded.StartCluster(3, embedded.Options{})
	require.NoError(t, err)
	t.Cleanup(c.Stop)
	require.Len(t, c.Nodes, 3)
	leaders, base := 0, filepath.Dir(c.Nodes[0].StoreDir())
	for i, n := range c.Nodes {
		ns := n.NATS()
		require.NotNil(t, ns, "node %d running", i)
		assert.True(t, ns.JetStreamIsClustered(), "node %d is in a JetStream cluster", i)
		assert.True(t, ns.JetStreamIsCurrent(), "node %d is current", i)
		if ns.JetStreamIsLeader() {
			leaders++
		}
		assert.NotEqual(t, 4222, embPort(t, n.Addr()))
		assert.Equal(t, base, filepath.Dir(n.StoreDir()), "node stores share one parent directory")
	}
	assert.Equal(t, 1, leaders, "one JetStream meta leader")
	assert.Len(t, strings.Split(c.URL(), ","), 3)
	assert.Equal(t, c.Nodes[1].URL(), strings.Split(c.URL(), ",")[1])
	assert.Equal(t, c.Nodes[2].Addr(), strings.Split(c.Addrs(), ",")[2])

	idx := embR3Stream(t, c)
	assert.True(t, c.Nodes[idx].NATS().JetStreamIsStreamLeader("$G", "EMBR3"))

	c.Stop()
	for i, n := range c.Nodes {
		assert.Nil(t, n.NATS(), "node %d down after Stop", i)
	}
	assert.NoDirExists(t, base, "the cluster's temporary store directory is removed")
	c.Stop() // a second Stop is a no-op
}

// embR3Stream creates a replicated stream EMBR3 through a client of the
// whole cluster and returns its leader's index.
func embR3Stream(t *testing.T, c *embedded.Cluster) int {
	t.Helper()
	js, err := jetstream.New(embConnect(t, c.URL()))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: "EMBR3", Subjects: []string{"embr3.>"}, Replicas: 3})
	require.NoError(t, err)
	_, err = js.Publish(ctx, "embr3.x", nil)
	require.NoError(t, err)
	idx, err := c.StreamLeader(ctx, "EMBR3")
	require.NoError(t, err)
	require.GreaterOrEqual(t, idx, 0)
	return idx
}

func TestClusterNodeRestartRejoins(t *testing.T) {
	dir := t.TempDir()
	c, err := embedded.StartCluster(3, embedded.Options{StoreDir: dir})
	require.NoError(t, err)
	t.Cleanup(c.Stop)
	old := embR3Stream(t, c)
	c.Nodes[old].Shutdown()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	idx, err := c.StreamLeader(ctx, "EMBR3")
	require.NoError(t, err)
	assert.NotEqual(t, old, idx, "a running node leads the stream")
	require.NoError(t, c.Nodes[old].Restart())
	require.NoError(t, c.WaitReady(ctx))
	assert.True(t, c.Nodes[old].NATS().JetStreamIsCurrent(), "the restarted node caught up")
	c.Stop()
	assert.DirExists(t, dir, "a store directory the user chose survives Stop")
}

func TestStartClusterRejects(t *testing.T) {
	for _, n := range []int{0, 1} { // a lone clustered node would wait for routes forever
		_, err := embedded.StartCluster(n, embedded.Options{})
		assert.Error(t, err, "%d nodes", n)
	}
	_, err := embedded.StartCluster(3, embedded.Options{NoJetStream: true})
	assert.Error(t, err, "a cluster without JetStream")
}

func TestClusterStreamLeaderWaitsForContext(t *testing.T) {
	c, err := embedded.StartCluster(2, embedded.Options{})
	require.NoError(t, err)
	t.Cleanup(c.Stop)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, err = c.StreamLeader(ctx, "NOSUCH")
	assert.ErrorIs(t, err, embedded.ErrNotReady)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}
