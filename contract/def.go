package contract

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/busway/busway/bus"
	"github.com/busway/busway/bus/subject"
	"github.com/busway/busway/middleware"
)

// Kind says what a declared type is.
type Kind string

// Kinds of declared types.
const (
	KindEvent   Kind = "event"
	KindCommand Kind = "command"
	KindQuery   Kind = "query"
)

// def is the non-generic core of a declaration.
type def struct {
	d              *Domain
	kind           Kind
	entity, action string
	base           string // CloudEvents type without ".vN"
	version        int
	subject        string
	goType         reflect.Type
	codec          codec
	strict         bool
	validate       bool

	typ string // CloudEvents type of the current version

	mu    sync.Mutex            // serialises addStep
	steps map[int]step          // by from-version; written under mu
	types map[int]reflect.Type  // Go type by version; written under mu
	read  atomic.Pointer[chain] // what decode reads, rebuilt by addStep

	schemaOnce sync.Once
	schema     []byte
	schemaErr  error
	validator  validator
}

func declare(d *Domain, kind Kind, entity, action string, t reflect.Type, opts []Option) (*def, error) {
	if d == nil {
		return nil, declErr("nil Domain")
	}
	s := spec{version: 1}
	for _, o := range opts {
		o(&s)
	}
	if err := errors.Join(s.errs...); err != nil {
		return nil, err
	}
	if err := errors.Join(checkName(entity, false), checkName(action, true)); err != nil {
		return nil, declErr("%s %q.%q: %v", kind, entity, action, err)
	}
	if s.version < 1 {
		return nil, declErr("%s %s.%s: version %d < 1", kind, entity, action, s.version)
	}
	df := &def{d: d, kind: kind, entity: entity, action: action, version: s.version, goType: t,
		base: d.prefix + "." + entity + "." + action, codec: jsonCodec{}, strict: s.strict, validate: s.validate,
		steps: map[int]step{}, types: map[int]reflect.Type{s.version: t}}
	df.typ = d.typeName(entity, action, s.version)
	df.rebuild()
	df.subject = s.subject
	if df.subject == "" {
		df.subject = d.subjects(d.service, entity, action)
	}
	if err := subject.Validate(df.subject); err != nil {
		return nil, fmt.Errorf("%w: %s %s: subject: %w", ErrDeclaration, kind, df.Type(), err)
	}
	if err := df.setCodec(s); err != nil {
		return nil, err
	}
	for _, st := range s.steps {
		if err := df.addStep(st); err != nil {
			return nil, err
		}
	}
	return df, df.Check()
}

func (df *def) setCodec(s spec) error {
	if !s.protobuf {
		return nil
	}
	if s.strict || s.validate {
		return declErr("%s: Strict and Validate apply to JSON payloads only", df.Type())
	}
	df.codec = protoCodec{}
	return checkProto(df.goType)
}

// Type returns the CloudEvents type of the current version.
func (df *def) Type() string { return df.typ }

// addStep registers one upcaster after checking it against the chain.
func (df *def) addStep(st step) error {
	df.mu.Lock()
	defer df.mu.Unlock()
	name := df.Type()
	switch {
	case st.from < 1 || st.from >= df.version:
		return declErr("%s: upcaster from v%d: must be from v1..v%d", name, st.from, df.version-1)
	case df.steps[st.from].fn != nil:
		return declErr("%s: duplicate upcaster from v%d", name, st.from)
	}
	if t, ok := df.types[st.from+1]; ok && t != st.new {
		return declErr("%s: upcaster v%d->v%d returns %v, but v%d is %v", name, st.from, st.from+1, st.new, st.from+1, t)
	}
	if t, ok := df.types[st.from]; ok && t != st.old {
		return declErr("%s: upcaster v%d->v%d takes %v, but v%d is %v", name, st.from, st.from+1, st.old, st.from, t)
	}
	if _, ok := df.codec.(protoCodec); ok {
		if err := checkProto(st.old); err != nil {
			return err
		}
	}
	df.steps[st.from] = st
	df.types[st.from], df.types[st.from+1] = st.old, st.new
	df.rebuild()
	return nil
}

// Check reports a gap in the upcaster chain: every registered step must
// lead, step by step, to the current version. (Steps go from N to N+1
// only, so a chain has no cycles by construction.)
func (df *def) Check() error {
	df.mu.Lock()
	defer df.mu.Unlock()
	for from := range df.steps {
		for v := from + 1; v < df.version; v++ {
			if df.steps[v].fn == nil {
				return declErr("%s: upcaster chain has a gap: v%d->v%d missing (from v%d)", df.Type(), v, v+1, from)
			}
		}
	}
	return nil
}

// Versions returns the versions this declaration reads, ascending: the
// current one and every one with an upcaster chain to it.
func (df *def) Versions() []int { return slices.Clone(df.read.Load().versions) }

// Types returns the CloudEvents types of Versions.
func (df *def) Types() []string { return slices.Clone(df.read.Load().types) }

// message builds the outgoing message for v under ceType.
func (df *def) message(ctx context.Context, ceType, subj string, v any) (*bus.Message, error) {
	data, err := df.codec.marshal(v)
	if err != nil {
		return nil, fmt.Errorf("contract: encode %s: %w", ceType, err)
	}
	if df.validate && ceType == df.Type() {
		if err := df.check(data); err != nil {
			return nil, fmt.Errorf("contract: %s: %w", ceType, err)
		}
	}
	m := bus.NewMessage(subj, ceType, data)
	m.Event.DataContentType = df.codec.contentType()
	m.Event.DataSchema = df.d.schemaURI(ceType)
	if ctx != nil {
		middleware.Correlate(ctx, m)
	}
	return m, nil
}
