package embedded

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Temporary store directories are named <prefix><pid>-<random>, so that
// the next process to start a server can remove those of processes that
// exited without Stop (a program killed, or one that never closed its
// bus): they would otherwise pile up in the temporary directory.
const (
	serverTempPrefix  = "busway-nats-"
	clusterTempPrefix = "busway-cluster-"
)

// tempStore makes a temporary store directory for this process, after
// removing the ones left by processes that no longer run.
func tempStore(prefix string) (string, error) {
	sweepTempStores(prefix)
	return os.MkdirTemp("", fmt.Sprintf("%s%d-*", prefix, os.Getpid()))
}

// sweepTempStores removes the directories named prefix<pid>-* whose
// process is gone. Errors are ignored: it is housekeeping, and a
// directory in use is never removed (its process runs).
func sweepTempStores(prefix string) {
	entries, err := os.ReadDir(os.TempDir())
	if err != nil {
		return
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok || !e.IsDir() {
			continue
		}
		pidText, _, ok := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if !ok || err != nil || pid <= 0 || pid == os.Getpid() || processAlive(pid) {
			continue
		}
		_ = os.RemoveAll(filepath.Join(os.TempDir(), e.Name()))
	}
}
