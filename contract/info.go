package contract

import "reflect"

// Info is a plain description of a declared type, for tooling (the cqrs
// Describe output, AsyncAPI generation) and logs.
type Info struct {
	Kind        Kind     // event, command or query
	Type        string   // CloudEvents type of the current version
	BaseType    string   // Type without the ".vN" suffix
	Version     int      // current major version
	Versions    []int    // versions read (current and upcast ones), ascending
	Types       []string // CloudEvents types of Versions
	Subject     string   // routing subject
	Service     string   // owning service (the domain's)
	GoType      string   // Go type of the current version, e.g. "orders.OrderPlacedV2"
	ContentType string   // datacontenttype
	SchemaURI   string   // dataschema of the current version
	Schema      []byte   // JSON Schema of the current version (nil if it could not be derived)
	// ReplyType, ReplyGoType and ReplySchema describe a query's reply.
	ReplyType   string
	ReplyGoType string
	ReplySchema []byte
}

// Contract is implemented by every declared type (*Event, *Command,
// *Query). Code that handles declarations generically (cqrs, tooling)
// uses it.
type Contract interface {
	// Info describes the declaration.
	Info() Info
	// Accepts reports whether a message of CloudEvents type t decodes with
	// this declaration (current version or an upcast one).
	Accepts(t string) bool
}

func (df *def) info() Info {
	schema, _ := df.Schema()
	return Info{
		Kind: df.kind, Type: df.Type(), BaseType: df.base, Version: df.version,
		Versions: df.Versions(), Types: df.Types(), Subject: df.subject, Service: df.d.service,
		GoType: goTypeName(df.goType), ContentType: df.codec.contentType(),
		SchemaURI: df.d.schemaURI(df.Type()), Schema: schema,
	}
}

func (df *def) accepts(t string) bool {
	for _, x := range df.Types() {
		if x == t {
			return true
		}
	}
	return false
}

func goTypeName(t reflect.Type) string { return t.String() }
