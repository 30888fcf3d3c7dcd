package kvdedup

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/busway/busway/bus"
	"github.com/busway/busway/bus/driver"
	"github.com/busway/busway/middleware"
	"github.com/nats-io/nats.go/jetstream"
)

// BucketPrefix starts the name of every group's bucket.
const BucketPrefix = "busway-dedup-"

// Defaults for Config fields left zero.
const (
	DefaultTTL   = 24 * time.Hour
	DefaultLease = 30 * time.Second
)

const (
	inProgress = "in-progress"
	done       = "done"
)

// Config configures a Store.
type Config struct {
	// TTL is how long a handled event is remembered (the bucket's TTL);
	// 0 means DefaultTTL. It is the bucket's setting: every Store of a
	// group should use the same.
	TTL time.Duration
	// Lease is how long an "in-progress" claim holds before another
	// instance may take it over; 0 means DefaultLease. It must outlast
	// the handler.
	Lease time.Duration
	// Replicas is the bucket's replica count (clustered JetStream); 0 is 1.
	Replicas int
}

// Store is a middleware.DedupStore on a JetStream KV bucket. It is safe
// for concurrent use.
type Store struct {
	kv    jetstream.KeyValue
	lease time.Duration

	mu   sync.Mutex
	revs map[string]uint64 // keys this process holds, with their lease revision
}

var _ middleware.DedupStore = (*Store)(nil)

// Open returns the store of group on b's JetStream (a jetstream:// or
// embedded bus), creating its bucket when missing. A bus without
// JetStream fails with an error wrapping bus.ErrNotSupported.
func Open(ctx context.Context, b *bus.Bus, group string, cfg Config) (*Store, error) {
	var js jetstream.JetStream
	if !b.As(&js) {
		return nil, fmt.Errorf("kvdedup: %w: the bus has no JetStream", bus.ErrNotSupported)
	}
	return New(ctx, js, group, cfg)
}

// New returns the store of group on js, creating its bucket when missing.
func New(ctx context.Context, js jetstream.JetStream, group string, cfg Config) (*Store, error) {
	if group == "" {
		return nil, errors.New("kvdedup: a group is required: the store is the group's record")
	}
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.Lease <= 0 {
		cfg.Lease = DefaultLease
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: Bucket(group), Description: "busway: events handled by group " + group,
		TTL: cfg.TTL, Replicas: cfg.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("kvdedup: bucket for group %q: %w", group, err)
	}
	return &Store{kv: kv, lease: cfg.Lease, revs: make(map[string]uint64)}, nil
}

var bucketSafe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Bucket is the name of group's bucket: BucketPrefix plus the group, or
// plus a hash of it when the group has characters a bucket name refuses.
func Bucket(group string) string {
	if bucketSafe.MatchString(group) {
		return BucketPrefix + group
	}
	return BucketPrefix + "h-" + driver.DedupID(group)
}

// kvKey is the KV key of a dedup key (KV keys allow few characters).
func kvKey(key string) string { return driver.DedupID(key) }

// Begin implements middleware.DedupStore.
func (s *Store) Begin(ctx context.Context, key string) (bool, error) {
	k := kvKey(key)
	for {
		rev, err := s.kv.Create(ctx, k, []byte(inProgress))
		if err == nil {
			s.hold(key, rev)
			return false, nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) {
			return false, fmt.Errorf("kvdedup: claim: %w", err)
		}
		handled, rev, err := s.wait(ctx, k)
		if err != nil || handled {
			return handled, err
		}
		if rev != 0 {
			s.hold(key, rev)
			return false, nil
		}
	}
}

func (s *Store) hold(key string, rev uint64) {
	s.mu.Lock()
	s.revs[key] = rev
	s.mu.Unlock()
}

func (s *Store) release(key string) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	rev := s.revs[key]
	delete(s.revs, key)
	return rev
}

// Done implements middleware.DedupStore.
func (s *Store) Done(ctx context.Context, key string) error {
	s.release(key)
	if _, err := s.kv.Put(ctx, kvKey(key), []byte(done)); err != nil {
		return fmt.Errorf("kvdedup: mark handled: %w", err)
	}
	return nil
}

// Abort implements middleware.DedupStore: it deletes the lease it holds
// (not one another instance took over).
func (s *Store) Abort(ctx context.Context, key string) error {
	rev := s.release(key)
	if rev == 0 {
		return nil // not held here
	}
	err := s.kv.Delete(ctx, kvKey(key), jetstream.LastRevision(rev))
	if err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) && !isWrongRevision(err) {
		return fmt.Errorf("kvdedup: release: %w", err)
	}
	return nil
}

// isWrongRevision reports a compare-and-set that lost (another instance
// wrote the key since).
func isWrongRevision(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence
}
