package natsbus

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/busway/busway/bus/subject"
	"github.com/nats-io/nats.go/jetstream"
)

// ErrStreamConflict is returned by Open when the stream exists with
// settings other than the configured ones. The error text lists each
// difference; nothing is changed on the server.
var ErrStreamConflict = errors.New("natsbus: stream exists with different settings")

// ErrStreamNotFound is returned by Open when the stream does not exist and
// may not be created (NoCreate, or no subjects configured).
var ErrStreamNotFound = errors.New("natsbus: stream not found")

// streamInfo is the provisioned stream: its handle and the subjects it
// captures, to route publishes and subscriptions.
type streamInfo struct {
	name     string
	subjects []string
	handle   jetstream.Stream
	created  time.Time // when the server created the stream
}

var storages = map[string]jetstream.StorageType{"file": jetstream.FileStorage, "memory": jetstream.MemoryStorage}

var retentions = map[string]jetstream.RetentionPolicy{
	"limits": jetstream.LimitsPolicy, "interest": jetstream.InterestPolicy, "workqueue": jetstream.WorkQueuePolicy,
}

func (sc StreamConfig) checkEnums() error {
	if _, ok := storages[sc.Storage]; sc.Storage != "" && !ok {
		return fmt.Errorf("natsbus: stream storage %q; want file or memory", sc.Storage)
	}
	if _, ok := retentions[sc.Retention]; sc.Retention != "" && !ok {
		return fmt.Errorf("natsbus: stream retention %q; want limits, interest or workqueue", sc.Retention)
	}
	for _, s := range sc.Subjects {
		if err := subject.ValidatePattern(s); err != nil {
			return fmt.Errorf("natsbus: stream subject: %w", err)
		}
	}
	return nil
}

// native is the nats.go stream configuration to create.
func (sc StreamConfig) native() jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:       sc.Name,
		Subjects:   sc.Subjects,
		Storage:    storages[sc.Storage],
		Retention:  retentions[sc.Retention],
		Replicas:   max(sc.Replicas, 1),
		MaxAge:     sc.MaxAge,
		MaxBytes:   orUnlimited(sc.MaxBytes),
		MaxMsgs:    orUnlimited(sc.MaxMsgs),
		Duplicates: sc.Duplicates,
	}
}

func orUnlimited(n int64) int64 {
	if n <= 0 {
		return -1
	}
	return n
}

// conflicts lists the configured settings an existing stream differs in.
func (sc StreamConfig) conflicts(have jetstream.StreamConfig) []string {
	var diffs []string
	diff := func(what string, has, want any) {
		diffs = append(diffs, fmt.Sprintf("%s is %v, configured %v", what, has, want))
	}
	if len(sc.Subjects) > 0 && !sameSet(have.Subjects, sc.Subjects) {
		diff("subjects", have.Subjects, sc.Subjects)
	}
	if st, ok := storages[sc.Storage]; ok && st != have.Storage {
		diff("storage", have.Storage, st)
	}
	if rp, ok := retentions[sc.Retention]; ok && rp != have.Retention {
		diff("retention", have.Retention, rp)
	}
	if sc.Replicas > 0 && sc.Replicas != have.Replicas {
		diff("replicas", have.Replicas, sc.Replicas)
	}
	if sc.MaxAge > 0 && sc.MaxAge != have.MaxAge {
		diff("max_age", have.MaxAge, sc.MaxAge)
	}
	if sc.MaxBytes > 0 && sc.MaxBytes != have.MaxBytes {
		diff("max_bytes", have.MaxBytes, sc.MaxBytes)
	}
	if sc.MaxMsgs > 0 && sc.MaxMsgs != have.MaxMsgs {
		diff("max_msgs", have.MaxMsgs, sc.MaxMsgs)
	}
	if sc.Duplicates > 0 && sc.Duplicates != have.Duplicates {
		diff("duplicates", have.Duplicates, sc.Duplicates)
	}
	return diffs
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// openJetStream creates or verifies the configured stream, if any, and
// learns every stream of the account, to route each subject to the stream
// that captures it.
func (c *Conn) openJetStream(ctx context.Context) error {
	jc := c.cfg.JetStream
	js, err := jetstream.New(c.nc, jetstream.WithPublishAsyncMaxPending(jc.PublishAsyncMaxPending),
		jetstream.WithPublishAsyncTimeout(jc.PublishAckTimeout))
	if err != nil {
		return fmt.Errorf("natsbus: jetstream: %w", err)
	}
	if jc.Stream.Name != "" {
		if c.stream, err = c.provision(ctx, js); err != nil {
			return err
		}
	}
	r := &routes{js: js, core: append(slices.Clone(jc.CoreSubjects), inboxPattern)}
	if _, err := apiRetry(ctx, func(ctx context.Context) (struct{}, error) { return struct{}{}, r.refresh(ctx) }); err != nil {
		if errors.Is(err, jetstream.ErrJetStreamNotEnabled) || errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount) {
			return fmt.Errorf("natsbus: the server at %s does not have JetStream enabled: %w", redactServers(c.nc.ConnectedUrl()), err)
		}
		return err
	}
	if c.stream != nil {
		r.add(c.stream)
	}
	c.js, c.routes = js, r
	return nil
}

// provision creates the configured stream, or verifies it when it exists.
func (c *Conn) provision(ctx context.Context, js jetstream.JetStream) (*streamInfo, error) {
	jc := c.cfg.JetStream
	sc := jc.Stream
	lookup := func(ctx context.Context) (jetstream.Stream, error) { return js.Stream(ctx, sc.Name) }
	st, err := apiRetry(ctx, lookup)
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound):
		if jc.NoCreate || len(sc.Subjects) == 0 {
			return nil, fmt.Errorf("%w: %q (to create it, configure its subjects: subjects=a.>,b.>)", ErrStreamNotFound, sc.Name)
		}
		st, err = apiRetry(ctx, func(ctx context.Context) (jetstream.Stream, error) { return js.CreateStream(ctx, sc.native()) })
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			st, err = apiRetry(ctx, lookup) // created meanwhile by another process
		}
		if err != nil {
			return nil, fmt.Errorf("natsbus: create stream %q: %w", sc.Name, err)
		}
		c.log.Info("natsbus: created stream", "stream", sc.Name, "subjects", sc.Subjects)
	case errors.Is(err, jetstream.ErrJetStreamNotEnabled), errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount):
		return nil, fmt.Errorf("natsbus: the server at %s does not have JetStream enabled: %w", redactServers(c.nc.ConnectedUrl()), err)
	case err != nil:
		return nil, fmt.Errorf("natsbus: look up stream %q: %w", sc.Name, err)
	}
	have := st.CachedInfo().Config
	if diffs := sc.conflicts(have); len(diffs) > 0 {
		return nil, fmt.Errorf("%w: %q: %s", ErrStreamConflict, sc.Name, strings.Join(diffs, "; "))
	}
	return &streamInfo{name: sc.Name, subjects: have.Subjects, handle: st, created: st.CachedInfo().Created}, nil
}

func withDefaultTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d)
}

// captures reports whether the stream stores messages published to
// subject.
func (s *streamInfo) captures(subj string) bool {
	for _, p := range s.subjects {
		if subject.Match(p, subj) {
			return true
		}
	}
	return false
}

// classify says whether a subscription pattern is inside the stream
// (every subject it matches is stored) and, if not, whether it overlaps it
// (some subjects would be stored, others not).
func (s *streamInfo) classify(pattern string) (inside, overlaps bool) {
	for _, p := range s.subjects {
		if subsetOf(pattern, p) {
			return true, false
		}
		overlaps = overlaps || overlap(pattern, p)
	}
	return false, overlaps
}

// subsetOf reports whether every subject matching pattern a also matches
// pattern b.
func subsetOf(a, b string) bool {
	at, bt := strings.Split(a, "."), strings.Split(b, ".")
	for i, t := range bt {
		if i >= len(at) {
			return false
		}
		switch {
		case t == ">":
			return true
		case at[i] == ">":
			return false
		case t == "*":
		case at[i] == "*" || at[i] != t:
			return false
		}
	}
	return len(at) == len(bt)
}

// overlap reports whether some subject matches both patterns.
func overlap(a, b string) bool {
	at, bt := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(at) && i < len(bt); i++ {
		x, y := at[i], bt[i]
		switch {
		case x == ">" || y == ">":
			return true
		case x == "*" || y == "*" || x == y:
		default:
			return false
		}
	}
	return len(at) == len(bt)
}
