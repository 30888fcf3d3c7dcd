// Package cloudevents is Busway's envelope codec: it maps a CloudEvent
// (spec 1.0) to and from a message's headers and body, following the NATS
// protocol binding for CloudEvents (1.0.3 draft).
//
// # Content modes
//
// Binary mode (Binary, the default) puts every context attribute and every
// extension in its own header and the event data, untouched, in the body.
// It is the fast path: Encode and Decode are hand-written, allocate little
// and never copy the data.
//
// Structured mode (Structured) puts the whole event in the body in the JSON
// event format and sets Content-Type: application/cloudevents+json. Data is
// written as a JSON value ("data") when datacontenttype is */json or
// */*+json and the bytes are valid JSON, otherwise base64 ("data_base64").
// Extensions are written as JSON strings, sorted by name, after the context
// attributes; data comes last. The JSON is produced and read by this
// package's own codec (sdk-go remains the interop oracle in its tests), and
// decoded Data is always a copy of the body's bytes. Interop note: sdk-go (v2.16) reads inline
// "data" as JSON only for application/json and text/json; for another
// */*+json type it expects a JSON string and fails on an object. Publish such
// events in binary mode, or as application/json, when sdk-go consumes them.
//
// # Header mapping (binary mode)
//
//	attribute        header                  value
//	specversion      ce-specversion          "1.0"
//	id               ce-id                   percent-encoded
//	source           ce-source               percent-encoded
//	type             ce-type                 percent-encoded
//	subject          ce-subject              percent-encoded, omitted when empty
//	time             ce-time                 RFC 3339 in UTC (time.RFC3339Nano), omitted when zero
//	datacontenttype  ce-datacontenttype      percent-encoded, omitted when empty
//	dataschema       ce-dataschema           percent-encoded, omitted when empty
//	extension <x>    ce-<x>                  canonical string form, percent-encoded
//	data             (message body)          bytes as is
//
// datacontenttype goes in ce-datacontenttype, not in a Content-Type header:
// the binding's section 3.1.3.1 lists "`datacontenttype` maps to
// `ce-datacontenttype`", and its binary example (3.1.4) carries
// ce-datacontenttype and no Content-Type. (A Content-Type header would also
// make an event whose data is itself a CloudEvent look structured.)
//
// Header names are written lowercase. Percent-encoding follows the
// binding's section 3.1.3.2: space, '"', '%' and every byte outside
// U+0021-U+007E of the value's UTF-8 encoding become %XY with uppercase hex,
// so "Euro € 😀" is written "Euro%20%E2%82%AC%20%F0%9F%98%80".
//
// # Lenient reading
//
// Decode accepts what conforming senders write and what the CloudEvents
// sdk-go NATS and JetStream bindings write:
//
//   - A message is structured when its Content-Type starts with
//     "application/cloudevents" (case-insensitive); only the JSON format is
//     read ("application/cloudevents+json", or no suffix). A message with no
//     ce- header at all whose body is a JSON object is also read as
//     structured: sdk-go sends structured events without Content-Type.
//     Everything else is binary.
//   - Header names match case-insensitively ("Ce-Id" is id; extension
//     names are lowercased).
//   - datacontenttype comes from ce-datacontenttype or, failing that, from
//     an unprefixed Content-Type header (which sdk-go also reads).
//   - Header values: optional whitespace around the value is dropped; a
//     double-quoted value is unquoted (RFC 7230 quoted-string, as the
//     binding requires); then %XY sequences are decoded, upper- or
//     lowercase hex. A value without '%' is taken as is, which reads
//     sdk-go's unencoded values. A bad sequence ("%G1", a trailing "%4") or
//     decoded bytes that are not UTF-8 are rejected. For source and
//     dataschema, a raw value that is a valid URI but does not decode to one
//     (sdk-go writes "/a%20b" unencoded) is kept raw.
//   - In JSON, extension values may be strings, booleans or numbers (whole,
//     32-bit), converted to canonical strings; null means absent. Data comes
//     from "data" (a JSON value kept as its raw bytes when the content type
//     is JSON, the string's bytes otherwise) or from "data_base64". "data"
//     without datacontenttype sets datacontenttype to "application/json", as
//     the JSON format says it is implied.
//
// After reading, the event must pass Validate.
//
// # Errors
//
// Every error for a bad event or message matches ErrInvalidEvent. Parse
// failures also match ErrMalformed. Errors about one attribute are
// *AttributeError values that name it.
package cloudevents
