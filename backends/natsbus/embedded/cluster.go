package embedded

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Cluster is a JetStream cluster of embedded servers in one process.
type Cluster struct {
	// Nodes are the cluster's servers, in start order.
	Nodes []*Server
	dir   string // removed by Stop when StartCluster created it
}

// StartCluster starts n servers (n >= 2; 3 to survive losing one) that
// form a JetStream cluster named "busway", each on its own random client
// port, cluster port and store directory (under opts.StoreDir, or a
// temporary directory that Stop removes), and waits until a JetStream meta
// leader is elected and every node is current. opts.Name, Port and StoreDir are set per node; the other
// fields apply to every node.
func StartCluster(n int, opts Options) (*Cluster, error) {
	if n < 2 {
		// A lone clustered node waits for routes forever: use Start.
		return nil, fmt.Errorf("embedded: cluster of %d nodes: a JetStream cluster needs at least 2 (3 to survive losing one); for one server use Start", n)
	}
	if opts.NoJetStream {
		return nil, errors.New("embedded: a cluster here is a JetStream cluster; NoJetStream is not supported")
	}
	c, base := &Cluster{}, opts.StoreDir
	if base == "" {
		dir, err := tempStore(clusterTempPrefix)
		if err != nil {
			return nil, fmt.Errorf("embedded: store directory: %w", err)
		}
		c.dir, base = dir, dir
	}
	routePorts, err := freePorts(n)
	if err != nil {
		return nil, err
	}
	routes := make([]string, n)
	for i, p := range routePorts {
		routes[i] = "nats-route://127.0.0.1:" + strconv.Itoa(p)
	}
	for i := range n {
		o := opts
		o.Name = "n" + strconv.Itoa(i+1)
		o.Port = 0
		o.StoreDir = filepath.Join(base, o.Name)
		clusterPort, user := routePorts[i], opts.Configure
		o.Configure = func(so *server.Options) {
			so.Cluster = server.ClusterOpts{Name: "busway", Host: "127.0.0.1", Port: clusterPort}
			so.Routes = server.RoutesFromStr(strings.Join(routes, ","))
			if user != nil {
				user(so)
			}
		}
		s, err := Start(o)
		if err != nil {
			c.Stop()
			return nil, fmt.Errorf("embedded: cluster node %s: %w", o.Name, err)
		}
		c.Nodes = append(c.Nodes, s)
	}
	ctx, cancel := context.WithTimeout(context.Background(), max(opts.ReadyTimeout, 30*time.Second))
	defer cancel()
	if err := c.WaitReady(ctx); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// freePorts finds n free TCP ports on 127.0.0.1. Route ports must be known
// before the servers start, since each names all of them.
func freePorts(n int) ([]int, error) {
	ls := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("embedded: free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// URL is the comma-separated client URL list of every node, as nats.go
// takes it.
func (c *Cluster) URL() string {
	urls := make([]string, len(c.Nodes))
	for i, s := range c.Nodes {
		urls[i] = s.URL()
	}
	return strings.Join(urls, ",")
}

// Addrs is the comma-separated host:port list of every node, for
// jetstream:// and nats:// URLs.
func (c *Cluster) Addrs() string {
	addrs := make([]string, len(c.Nodes))
	for i, s := range c.Nodes {
		addrs[i] = s.Addr()
	}
	return strings.Join(addrs, ",")
}

// WaitReady polls until the running nodes have a JetStream meta leader,
// each is current, and the leader counts every running node as an online
// peer (so a replicated stream can be placed at once), or ctx ends.
func (c *Cluster) WaitReady(ctx context.Context) error {
	return poll(ctx, func() bool {
		running, online := 0, -1
		for _, s := range c.Nodes {
			ns := s.NATS()
			if ns == nil {
				continue
			}
			running++
			if !ns.JetStreamIsCurrent() {
				return false
			}
			if ns.JetStreamIsLeader() {
				online = len(ns.JetStreamClusterPeers())
			}
		}
		return running > 0 && online >= running
	}, "JetStream meta leader with every running node online")
}

// StreamLeader returns the index of the node leading stream in the global
// account, waiting until there is one or ctx ends.
func (c *Cluster) StreamLeader(ctx context.Context, stream string) (int, error) {
	idx := -1
	err := poll(ctx, func() bool {
		for i, s := range c.Nodes {
			if ns := s.NATS(); ns != nil && ns.JetStreamIsStreamLeader(server.DEFAULT_GLOBAL_ACCOUNT, stream) {
				idx = i
				return true
			}
		}
		return false
	}, "leader of stream "+stream)
	return idx, err
}

// poll checks cond every few milliseconds until it holds or ctx ends.
func poll(ctx context.Context, cond func() bool, what string) error {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %s: %w", ErrNotReady, what, ctx.Err())
		case <-t.C:
		}
	}
	return nil
}

// Stop shuts every node down and removes the store directories when
// StartCluster created them.
func (c *Cluster) Stop() {
	for _, s := range c.Nodes {
		s.Stop()
	}
	if c.dir != "" {
		_ = os.RemoveAll(c.dir)
		c.dir = ""
	}
}
