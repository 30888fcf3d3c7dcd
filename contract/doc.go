// Package contract declares message types as contracts: each event,
// command or query type is declared once, with its CloudEvents type
// (major version included), its Go type, its subject and its codec, and
// every publish and decode goes through the declaration, so call sites
// carry no strings.
//
// # Naming
//
// A Domain is a service's naming scope:
//
//	var d = contract.MustDomain("com.example", "orders")
//	var OrderPlaced = contract.NewEvent[OrderPlacedV2](d, "order", "placed", contract.Version(2))
//
// gives the CloudEvents type "com.example.order.placed.v2" and the subject
// "orders.order.placed" ({service}.{entity}.{action}; replace the strategy
// with Subjects, or set one subject with the Subject option). Subjects are
// checked with the bus subject rules at declaration. NewEvent, NewCommand
// and NewQuery panic on an invalid declaration (they are meant for
// package-level variables, so a broken one stops the program at init, with
// an error wrapping ErrDeclaration); DeclareEvent, DeclareCommand and
// DeclareQuery return the error instead.
//
// # Codecs and schemas
//
// Payloads are JSON by default (datacontenttype application/json);
// Protobuf() uses google.golang.org/protobuf (application/protobuf; the Go
// type must be a generated proto.Message pointer, checked at declaration).
// Strict() rejects unknown JSON fields. The JSON Schema of each Go type is
// derived with github.com/invopop/jsonschema (Schema); Validate() checks
// payloads against it with github.com/santhosh-tekuri/jsonschema/v6 on
// publish and receipt (off by default). Every message carries its
// schema's stable URI in dataschema: "urn:{prefix}:schema:{type}", or
// "{base}{type}.json" with the SchemaBase domain option.
//
// # Versioning
//
// The major version is part of the type. A declaration reads its current
// version and every older one with an upcaster chain to it, registered per
// step with From (at declaration) or Upcast (later):
//
//	var OrderPlaced = contract.NewEvent[OrderPlacedV2](d, "order", "placed", contract.Version(2),
//		contract.From(1, func(v1 OrderPlacedV1) (OrderPlacedV2, error) { ... }))
//
// The chain is checked when steps are registered (no duplicate step, Go
// types consistent between neighbouring steps; steps only go from N to
// N+1, so there are no cycles) and by Check (no gaps). Decode picks the Go
// type from the message's CloudEvents type, never the other way round: v2
// bytes are never decoded into a v1 struct. A type of another base is
// ErrUnknownType; a version the declaration cannot read (newer, or older
// without an upcaster) is ErrUnknownVersion, with a text such as
// "com.example.order.placed.v3: this service knows v1, v2". Both are
// permanent errors (bus.Permanent): the message is dead-lettered, never
// retried, never silently acked, and can be replayed after an upgrade.
//
// CheckEvolution compares two declarations' schemas and reports breaking
// changes (property removed, retyped, newly required) and whether an
// upcaster covers them, for a service's own tests.
//
// # Correlation
//
// New, Publish and Send stamp the correlationid and causationid extensions
// (middleware.CorrelationIDExtension, middleware.CausationIDExtension) from
// ctx when it comes from a handler run under middleware.Correlation, as
// every cqrs handler is.
package contract
