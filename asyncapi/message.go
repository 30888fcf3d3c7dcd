package asyncapi

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// message adds the component message for a CloudEvents type (once; a type
// both sent and received is one message) and returns its key.
func (d *doc) message(typ, goType, contentType, dataSchema string, kind Kind, schema []byte) (string, error) {
	key := sanitize(typ)
	if _, ok := d.messages[key]; ok {
		return key, nil
	}
	if contentType == "" {
		contentType = "application/json"
	}
	m := obj{
		"name":        key,
		"title":       typ,
		"contentType": contentType,
		"headers":     headers(typ, contentType, dataSchema),
	}
	desc := fmt.Sprintf("CloudEvents %s of type %s", kind, typ)
	if goType != "" {
		desc += " (Go type " + goType + ")"
	}
	m["summary"] = desc + "."
	if len(schema) > 0 {
		payload, err := d.payload(key, schema)
		if err != nil {
			return "", fmt.Errorf("schema of %s: %w", typ, err)
		}
		m["payload"] = payload
	}
	d.messages[key] = m
	return key, nil
}

// headers is the schema of the CloudEvents binary-mode headers a message of
// type typ carries.
func headers(typ, contentType, dataSchema string) obj {
	str := func(desc string) obj { return obj{"type": "string", "description": desc} }
	props := obj{
		"ce-specversion":     obj{"type": "string", "const": "1.0", "description": "CloudEvents spec version."},
		"ce-id":              str("Event id, unique per source."),
		"ce-source":          str("URI-reference of the producing service."),
		"ce-type":            obj{"type": "string", "const": typ, "description": "CloudEvents type, with its major version."},
		"ce-time":            obj{"type": "string", "format": "date-time", "description": "When the event happened."},
		"ce-subject":         str("Subject of the event in the producer's context."),
		"ce-datacontenttype": obj{"type": "string", "const": contentType, "description": "Payload content type."},
		"ce-correlationid":   str("Id of the first message of the flow (extension)."),
		"ce-causationid":     str("Id of the message that caused this one (extension)."),
	}
	if dataSchema != "" {
		props["ce-dataschema"] = obj{"type": "string", "const": dataSchema, "description": "URI of the payload's schema."}
	}
	return obj{
		"type":       "object",
		"required":   []any{"ce-specversion", "ce-id", "ce-source", "ce-type"},
		"properties": props,
	}
}

// payload parses a JSON Schema, moves its $defs (or definitions) to
// components.schemas (renamed if another type already took a name with a
// different schema) and rewrites the references to match.
func (d *doc) payload(msgKey string, schema []byte) (any, error) {
	var root obj
	if err := json.Unmarshal(schema, &root); err != nil {
		return nil, fmt.Errorf("not a JSON Schema object: %w", err)
	}
	delete(root, "$schema")
	delete(root, "$id")
	defs := obj{}
	for _, k := range []string{"$defs", "definitions"} {
		if m, ok := root[k].(obj); ok {
			for name, s := range m {
				defs[name] = s
			}
			delete(root, k)
		}
	}
	rename := map[string]string{}
	for name, s := range defs {
		to := sanitize(name)
		if have, taken := d.schemas[to]; taken && !reflect.DeepEqual(have, s) {
			to = msgKey + "." + to
		}
		rename[name] = to
	}
	for name, s := range defs {
		d.schemas[rename[name]] = rewriteRefs(s, rename)
	}
	return rewriteRefs(root, rename), nil
}

// rewriteRefs returns v with every "#/$defs/X" or "#/definitions/X"
// reference pointing at #/components/schemas/rename[X].
func rewriteRefs(v any, rename map[string]string) any {
	switch x := v.(type) {
	case obj:
		out := obj{}
		for k, e := range x {
			if s, ok := e.(string); ok && k == "$ref" {
				out[k] = rewriteRef(s, rename)
				continue
			}
			out[k] = rewriteRefs(e, rename)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = rewriteRefs(e, rename)
		}
		return out
	}
	return v
}

func rewriteRef(s string, rename map[string]string) string {
	for _, p := range []string{"#/$defs/", "#/definitions/"} {
		if name, ok := strings.CutPrefix(s, p); ok {
			if to, ok := rename[name]; ok {
				return "#/components/schemas/" + to
			}
		}
	}
	return s
}
