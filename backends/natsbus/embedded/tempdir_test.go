package embedded_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/busway/busway/backends/natsbus/embedded"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStartSweepsStoresOfExitedProcesses: a program that exits without
// Stop leaves its temporary store directory behind; the next Start removes
// it, and never one whose process still runs.
func TestStartSweepsStoresOfExitedProcesses(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("process liveness is not checked on Windows; Stop alone removes store directories")
	}
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	exited := exec.Command("true")
	require.NoError(t, exited.Run())
	deadPID := exited.ProcessState.Pid()

	mk := func(name string) string {
		p := filepath.Join(tmp, name)
		require.NoError(t, os.MkdirAll(filepath.Join(p, "jetstream"), 0o755))
		return p
	}
	dead := mk(fmt.Sprintf("busway-nats-%d-123", deadPID))
	deadCluster := mk(fmt.Sprintf("busway-cluster-%d-456", deadPID))
	live := mk(fmt.Sprintf("busway-nats-%d-789", os.Getppid()))
	other := mk("busway-nats-notapid")

	s, err := embedded.Start(embedded.Options{})
	require.NoError(t, err)
	own := s.StoreDir()
	assert.Equal(t, tmp, filepath.Dir(own))
	assert.Contains(t, filepath.Base(own), fmt.Sprintf("busway-nats-%d-", os.Getpid()), "named for this process")
	assert.NoDirExists(t, dead, "left by an exited process: removed")
	assert.DirExists(t, deadCluster, "a cluster's directories are swept by StartCluster")
	assert.DirExists(t, live, "its process runs: kept")
	assert.DirExists(t, other, "not a store name: kept")
	s.Stop()
	assert.NoDirExists(t, own)

	c, err := embedded.StartCluster(3, embedded.Options{})
	require.NoError(t, err)
	c.Stop()
	assert.NoDirExists(t, deadCluster, "swept by StartCluster")
}
