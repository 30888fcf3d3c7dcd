package contract

import (
	"fmt"
	"reflect"
	"slices"

	"github.com/busway/busway/bus"
)

// chain is an immutable snapshot of what a declaration reads, swapped
// whole when an upcaster is added, so decoding takes no lock.
type chain struct {
	versions []int                // ascending
	types    []string             // CloudEvents types of versions
	known    map[string]int       // CloudEvents type -> version
	steps    map[int]step         // by from-version, readable ones only
	goTypes  map[int]reflect.Type // by version
}

// rebuild publishes a new chain snapshot; called with df.mu held (or
// before df is shared).
func (df *def) rebuild() {
	c := &chain{known: map[string]int{}, steps: map[int]step{}, goTypes: map[int]reflect.Type{}}
	c.versions = []int{df.version}
	for v := df.version - 1; v >= 1 && df.steps[v].fn != nil; v-- {
		c.versions = append(c.versions, v)
		c.steps[v] = df.steps[v]
	}
	slices.Sort(c.versions)
	for _, v := range c.versions {
		t := df.d.typeName(df.entity, df.action, v)
		c.types = append(c.types, t)
		c.known[t] = v
		c.goTypes[v] = df.types[v]
	}
	df.read.Store(c)
}

// version returns the version of CloudEvents type t this declaration
// reads, or the permanent ErrUnknownType / ErrUnknownVersion error.
func (df *def) versionOf(c *chain, t string) (int, error) {
	if v, ok := c.known[t]; ok {
		return v, nil
	}
	if base, _, ok := ParseType(t); ok && base == df.base {
		return 0, UnknownVersion(t, c.versions)
	}
	return 0, UnknownType(t, c.types)
}

// checkIncoming checks m's content type, and its payload against the
// schema when Validate is on and m is of the current version.
func (df *def) checkIncoming(m *bus.Message, v int) error {
	t := m.Event.Type
	if ct := m.Event.DataContentType; ct != "" && ct != df.codec.contentType() {
		return bus.Permanent(fmt.Errorf("%w: %s: datacontenttype %q, want %q", ErrDecode, t, ct, df.codec.contentType()))
	}
	if df.validate && v == df.version {
		if err := df.check(m.Event.Data); err != nil {
			return bus.Permanent(fmt.Errorf("%w: %s: %w", ErrDecode, t, err))
		}
	}
	return nil
}

// decode reads m as the current version, upcasting older versions. Every
// error is permanent.
func (df *def) decode(m *bus.Message) (any, error) {
	c := df.read.Load()
	v, err := df.versionOf(c, m.Event.Type)
	if err != nil {
		return nil, err
	}
	if err := df.checkIncoming(m, v); err != nil {
		return nil, err
	}
	gt := c.goTypes[v]
	val, err := df.codec.unmarshal(m.Event.Data, gt, df.strict)
	if err != nil {
		return nil, bus.Permanent(fmt.Errorf("%w: %s into %v: %w", ErrDecode, m.Event.Type, gt, err))
	}
	return df.upcast(c, val, v)
}

// upcast runs the steps from version v to the current one.
func (df *def) upcast(c *chain, val any, v int) (any, error) {
	for ; v < df.version; v++ {
		next, err := c.steps[v].fn(val)
		if err != nil {
			return nil, bus.Permanent(fmt.Errorf("contract: %s: upcast v%d->v%d: %w", df.base, v, v+1, err))
		}
		val = next
	}
	return val, nil
}

// decodeAs decodes m with df as T. The current version of a JSON
// declaration decodes straight into a T, without reflection.
func decodeAs[T any](df *def, m *bus.Message) (T, error) {
	var zero T
	c := df.read.Load()
	if v, ok := c.known[m.Event.Type]; ok && v == df.version {
		if _, isJSON := df.codec.(jsonCodec); isJSON {
			if err := df.checkIncoming(m, v); err != nil {
				return zero, err
			}
			var out T
			if err := unmarshalJSON(m.Event.Data, &out, df.strict); err != nil {
				return zero, bus.Permanent(fmt.Errorf("%w: %s into %v: %w", ErrDecode, m.Event.Type, df.goType, err))
			}
			return out, nil
		}
	}
	v, err := df.decode(m)
	if err != nil {
		return zero, err
	}
	t, ok := v.(T)
	if !ok {
		return zero, bus.Permanent(declErr("%s: upcast chain produced %T, want %v", df.Type(), v, reflect.TypeFor[T]()))
	}
	return t, nil
}
