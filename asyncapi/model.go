package asyncapi

// Kind is what a registration carries.
type Kind string

// The kinds of registration.
const (
	Event   Kind = "event"
	Command Kind = "command"
	Query   Kind = "query"
)

// Action is what the service does with a registration's messages.
type Action string

// The actions, as AsyncAPI 3 names them.
const (
	// Receive: the service handles the messages (a query: it also replies).
	Receive Action = "receive"
	// Send: the service publishes the messages (a query: it requests).
	Send Action = "send"
)

// Model is the neutral description of one service the document is
// generated from.
type Model struct {
	// Service names the service; it also titles the document if Title is empty.
	Service string
	// Title, Version and Description fill the document's info object
	// (Version defaults to "0.0.0").
	Title, Version, Description string
	// Registrations lists what the service handles and sends.
	Registrations []Registration
}

// Registration is one message type a service handles or sends.
type Registration struct {
	Kind   Kind
	Action Action
	// Type is the CloudEvents type, e.g. "com.example.order.placed.v2".
	Type string
	// Subject is the subject or subject pattern (wildcards allowed).
	Subject string
	// Group is the consumer group, when the service receives in one.
	Group string
	// GoType names the Go payload type, for the message's description.
	GoType string
	// ContentType is the payload's datacontenttype (default application/json).
	ContentType string
	// DataSchema is the schema URI the messages carry in dataschema, if any.
	DataSchema string
	// Schema is the payload's JSON Schema (JSON bytes); nil means any payload.
	Schema []byte
	// Reply describes a query's reply; only for Kind Query.
	Reply *Reply
}

// Reply is the typed reply of a query.
type Reply struct {
	Type, GoType, ContentType string
	Schema                    []byte
}
