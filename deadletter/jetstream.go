package deadletter

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/busway/busway/bus"
	"github.com/nats-io/nats.go/jetstream"
)

// ReplayBucketPrefix names the KV bucket of replay marks of a stream:
// ReplayBucketPrefix + stream name.
const ReplayBucketPrefix = "busway-replays-"

// Open returns a store reading the dead letters on subject from the
// JetStream stream that stores it, on a jetstream:// (or embedded) bus. It
// reads by sequence without consuming (dead letters stay until purged)
// and keeps replay marks in the KV bucket ReplayBucketPrefix+stream,
// created when missing. A bus without JetStream fails with an error
// wrapping bus.ErrNotSupported (use Record there).
func Open(ctx context.Context, b *bus.Bus, subject string) (*Store, error) {
	var js jetstream.JetStream
	if !b.As(&js) {
		return nil, fmt.Errorf("deadletter: open %q: %w: the bus has no JetStream (use Record)", subject, bus.ErrNotSupported)
	}
	name, err := js.StreamNameBySubject(ctx, subject)
	if err != nil {
		return nil, fmt.Errorf("deadletter: open %q: no stream stores the subject: %w", subject, err)
	}
	st, err := js.Stream(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("deadletter: open %q: stream %s: %w", subject, name, err)
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: ReplayBucketPrefix + name, Description: "busway: dead letters replayed from stream " + name,
	})
	if err != nil {
		return nil, fmt.Errorf("deadletter: open %q: replay marks bucket: %w", subject, err)
	}
	return &Store{b: b, subject: subject, be: &jsStore{stream: st, subject: subject, kv: kv}}, nil
}

// jsStore is the JetStream backend of Open: ids are stream sequences.
type jsStore struct {
	stream  jetstream.Stream
	subject string
	kv      jetstream.KeyValue
}

func (j *jsStore) list(ctx context.Context) ([]*Letter, error) {
	var out []*Letter
	for seq := uint64(1); ; {
		raw, err := j.stream.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(j.subject))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("deadletter: list %q: %w", j.subject, err)
		}
		out = append(out, decode(strconv.FormatUint(raw.Sequence, 10), raw.Header, raw.Data))
		seq = raw.Sequence + 1
	}
}

func (j *jsStore) seq(id string) (uint64, error) {
	seq, err := strconv.ParseUint(id, 10, 64)
	if err != nil || seq == 0 {
		return 0, fmt.Errorf("%w: %q is not a stream sequence", ErrNotFound, id)
	}
	return seq, nil
}

func (j *jsStore) get(ctx context.Context, id string) (*Letter, error) {
	seq, err := j.seq(id)
	if err != nil {
		return nil, err
	}
	raw, err := j.stream.GetMsg(ctx, seq)
	switch {
	case errors.Is(err, jetstream.ErrMsgNotFound):
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	case err != nil:
		return nil, fmt.Errorf("deadletter: get %s: %w", id, err)
	case raw.Subject != j.subject:
		return nil, fmt.Errorf("%w: %s is on %q, not %q", ErrNotFound, id, raw.Subject, j.subject)
	}
	return decode(id, raw.Header, raw.Data), nil
}

func (j *jsStore) mark(ctx context.Context, id string) (bool, error) {
	_, err := j.kv.Create(ctx, id, []byte("replayed"))
	if errors.Is(err, jetstream.ErrKeyExists) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("deadletter: mark %s replayed: %w", id, err)
	}
	return true, nil
}

func (j *jsStore) unmark(ctx context.Context, id string) error { return j.kv.Purge(ctx, id) }

func (j *jsStore) replayed(ctx context.Context) (map[string]bool, error) {
	keys, err := j.kv.Keys(ctx)
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("deadletter: replay marks: %w", err)
	}
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m, nil
}

func (j *jsStore) remove(ctx context.Context, id string) error {
	if _, err := j.get(ctx, id); err != nil {
		return err
	}
	seq, _ := j.seq(id)
	if err := j.stream.DeleteMsg(ctx, seq); err != nil {
		return fmt.Errorf("deadletter: purge %s: %w", id, err)
	}
	if err := j.kv.Purge(ctx, id); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("deadletter: purge %s: its replay mark: %w", id, err)
	}
	return nil
}

func (j *jsStore) close(context.Context) error { return nil }
