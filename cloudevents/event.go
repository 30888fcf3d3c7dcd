package cloudevents

import "time"

// SpecVersion is the CloudEvents specification version this package writes.
const SpecVersion = "1.0"

// Event is one CloudEvent: its context attributes, its extensions and its
// data. The zero value is not a valid event; ID, Source, SpecVersion and Type
// are required (see Validate).
//
// Extension values are held in their canonical string form (the CloudEvents
// type system's string encoding: "true", "42", RFC 3339 timestamps, base64
// for binary). That is the form every transport binding carries, so an
// extension round-trips unchanged through binary and structured mode.
type Event struct {
	// ID identifies the event; with Source it is unique per event.
	ID string
	// Source identifies the context in which the event happened (URI-reference).
	Source string
	// SpecVersion is the CloudEvents version, "1.0".
	SpecVersion string
	// Type names the kind of event, e.g. "com.example.order.created.v2".
	Type string
	// Subject is the CloudEvents "subject" attribute: what the event is about
	// within Source. It is not the transport's routing subject.
	Subject string
	// Time is when the occurrence happened; the zero time means absent.
	Time time.Time
	// DataContentType is the media type of Data, e.g. "application/json".
	DataContentType string
	// DataSchema is a URI identifying the schema Data adheres to.
	DataSchema string
	// Extensions holds extension attributes by lowercase name, values in
	// canonical string form.
	Extensions map[string]string
	// Data is the event payload, as bytes.
	Data []byte
}
