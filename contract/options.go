package contract

import (
	"fmt"
	"reflect"
)

// Option configures a declared Event, Command or Query.
type Option func(*spec)

// spec collects options before a declaration is checked.
type spec struct {
	version  int
	subject  string
	protobuf bool
	strict   bool
	validate bool
	steps    []step
	errs     []error
}

// Version sets the major version of the declared type (default 1). It is
// the ".vN" suffix of the CloudEvents type.
func Version(n int) Option { return func(s *spec) { s.version = n } }

// Subject sets an explicit routing subject instead of the domain's
// strategy. It is checked with the bus subject rules (no wildcards).
func Subject(subj string) Option { return func(s *spec) { s.subject = subj } }

// Protobuf encodes the payload with google.golang.org/protobuf
// (datacontenttype "application/protobuf") instead of JSON. The Go type
// (and every upcast source type) must implement proto.Message; this is
// checked at declaration.
func Protobuf() Option { return func(s *spec) { s.protobuf = true } }

// Strict rejects JSON payloads with fields the Go type does not have
// (json.Decoder.DisallowUnknownFields), so a breaking change fails loudly
// as a permanent error rather than decoding partly. JSON only.
func Strict() Option { return func(s *spec) { s.strict = true } }

// Validate checks payloads against the type's JSON Schema on publish
// (New/Publish fail) and on receipt (Decode fails permanently). Off by
// default. It applies to the current version's payloads; older versions
// are decoded into their own Go types and upcast. The derived schema
// requires fields without omitempty and allows fields it does not list
// (adding a field stays compatible; use Strict to refuse them). JSON only.
func Validate() Option { return func(s *spec) { s.validate = true } }

// step is one upcaster: version from (Go type old) to from+1 (Go type new).
type step struct {
	from     int
	old, new reflect.Type
	fn       func(any) (any, error)
}

// From registers, at declaration, an upcaster from version from (Go type
// Old) to version from+1 (Go type New). The chain is checked when the
// declaration is made: see Upcast.
//
//	var OrderPlaced = contract.NewEvent[OrderPlacedV2](d, "order", "placed", contract.Version(2),
//		contract.From(1, func(v1 OrderPlacedV1) (OrderPlacedV2, error) { ... }))
func From[Old, New any](from int, fn func(Old) (New, error)) Option {
	st, err := newStep(from, fn)
	return func(s *spec) {
		if err != nil {
			s.errs = append(s.errs, err)
			return
		}
		s.steps = append(s.steps, st)
	}
}

func newStep[Old, New any](from int, fn func(Old) (New, error)) (step, error) {
	if fn == nil {
		return step{}, declErr("upcaster from v%d is nil", from)
	}
	return step{
		from: from,
		old:  reflect.TypeFor[Old](),
		new:  reflect.TypeFor[New](),
		fn: func(v any) (any, error) {
			o, ok := v.(Old)
			if !ok {
				return nil, fmt.Errorf("upcaster from v%d: got %T, want %v", from, v, reflect.TypeFor[Old]())
			}
			return fn(o)
		},
	}, nil
}
