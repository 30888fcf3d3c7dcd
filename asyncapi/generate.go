package asyncapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Version is the AsyncAPI version of the generated documents.
const Version = "3.0.0"

// ErrInvalidModel is returned (wrapped) for a model the generator cannot
// turn into a valid document: a missing type or subject, a bad schema, or
// the same type registered twice with one action.
var ErrInvalidModel = errors.New("asyncapi: invalid model")

type obj = map[string]any

// doc accumulates the document's parts while registrations are added.
type doc struct {
	channels, operations, messages, schemas obj
}

// Generate returns the AsyncAPI 3.0 document for m as indented JSON, with
// object keys sorted (stable output for golden files and diffs).
func Generate(m Model) ([]byte, error) {
	if m.Service == "" {
		return nil, fmt.Errorf("%w: no service name", ErrInvalidModel)
	}
	d := &doc{channels: obj{}, operations: obj{}, messages: obj{}, schemas: obj{}}
	for i, r := range m.Registrations {
		if err := d.add(r); err != nil {
			return nil, fmt.Errorf("%w: registration %d (%s %q): %v", ErrInvalidModel, i, r.Kind, r.Type, err)
		}
	}
	components := obj{"messages": d.messages}
	if len(d.schemas) > 0 {
		components["schemas"] = d.schemas
	}
	out := obj{
		"asyncapi":           Version,
		"info":               info(m),
		"defaultContentType": "application/json",
		"channels":           d.channels,
		"operations":         d.operations,
		"components":         components,
	}
	return json.MarshalIndent(out, "", "  ")
}

func info(m Model) obj {
	title, version := m.Title, m.Version
	if title == "" {
		title = m.Service
	}
	if version == "" {
		version = "0.0.0"
	}
	i := obj{"title": title, "version": version}
	if m.Description != "" {
		i["description"] = m.Description
	}
	return i
}

// add puts one registration's channel, message(s) and operation in d.
func (d *doc) add(r Registration) error {
	if r.Type == "" || r.Subject == "" {
		return errors.New("type and subject are required")
	}
	if r.Action != Send && r.Action != Receive {
		return fmt.Errorf("action %q: want %q or %q", r.Action, Send, Receive)
	}
	if r.Reply != nil && r.Kind != Query {
		return errors.New("only a query has a reply")
	}
	msgKey, err := d.message(r.Type, r.GoType, r.ContentType, r.DataSchema, r.Kind, r.Schema)
	if err != nil {
		return err
	}
	chKey := d.channel(r.Subject, msgKey)
	opKey := string(r.Action) + "_" + msgKey
	if r.Group != "" {
		opKey = string(r.Action) + "_" + sanitize(r.Group) + "_" + msgKey
	}
	if _, dup := d.operations[opKey]; dup {
		return fmt.Errorf("%s of %s registered twice (group %q)", r.Action, r.Type, r.Group)
	}
	op := obj{
		"action":   string(r.Action),
		"channel":  ref("#/channels/" + chKey),
		"messages": []any{ref("#/channels/" + chKey + "/messages/" + msgKey)},
		"summary":  summary(r),
	}
	if r.Reply != nil {
		reply, err := d.reply(chKey, *r.Reply)
		if err != nil {
			return err
		}
		op["reply"] = reply
	}
	d.operations[opKey] = op
	return nil
}

// reply adds a query's reply message and its channel (null address: the
// requester's inbox) and returns the operation's reply object.
func (d *doc) reply(chKey string, rp Reply) (obj, error) {
	if rp.Type == "" {
		return nil, errors.New("the reply has no type")
	}
	msgKey, err := d.message(rp.Type, rp.GoType, rp.ContentType, "", "reply", rp.Schema)
	if err != nil {
		return nil, fmt.Errorf("reply: %w", err)
	}
	replyKey := chKey + "_reply"
	ch, ok := d.channels[replyKey].(obj)
	if !ok {
		ch = obj{"address": nil, "description": "The requester's reply inbox (a NATS reply subject, set per request).", "messages": obj{}}
		d.channels[replyKey] = ch
	}
	ch["messages"].(obj)[msgKey] = ref("#/components/messages/" + msgKey)
	return obj{
		"channel":  ref("#/channels/" + replyKey),
		"messages": []any{ref("#/channels/" + replyKey + "/messages/" + msgKey)},
	}, nil
}

// channel returns the key of the subject's channel, creating it, and lists
// msgKey among its messages.
func (d *doc) channel(subject, msgKey string) string {
	key := sanitize(subject)
	ch, ok := d.channels[key].(obj)
	if !ok {
		address, params := address(subject)
		ch = obj{"address": address, "messages": obj{}}
		if len(params) > 0 {
			ch["parameters"] = params
		}
		d.channels[key] = ch
	}
	ch["messages"].(obj)[msgKey] = ref("#/components/messages/" + msgKey)
	return key
}

// address turns a subject pattern into an AsyncAPI address: "*" tokens
// become {tokenN} parameters (N = token position) and a final ">" becomes
// {rest}.
func address(subject string) (string, obj) {
	tokens := strings.Split(subject, ".")
	params := obj{}
	for i, t := range tokens {
		switch t {
		case "*":
			name := fmt.Sprintf("token%d", i+1)
			tokens[i] = "{" + name + "}"
			params[name] = obj{"description": fmt.Sprintf("Token %d of the subject (the subscription's \"*\" wildcard).", i+1)}
		case ">":
			tokens[i] = "{rest}"
			params["rest"] = obj{"description": "The remaining tokens of the subject (the subscription's \">\" wildcard)."}
		}
	}
	return strings.Join(tokens, "."), params
}

func summary(r Registration) string {
	verb := map[Action]string{Send: "Sends", Receive: "Handles"}[r.Action]
	s := fmt.Sprintf("%s the %s %s", verb, r.Kind, r.Type)
	if r.Group != "" {
		s += fmt.Sprintf(" (group %q)", r.Group)
	}
	if r.Reply != nil {
		s += ", replying " + r.Reply.Type
	}
	return s + "."
}

func ref(to string) obj { return obj{"$ref": to} }

// sanitize makes an AsyncAPI component key (^[A-Za-z0-9.\-_]+$) from a
// subject or type.
func sanitize(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '-', c == '_':
			b.WriteRune(c)
		case c == '*':
			b.WriteString("any")
		case c == '>':
			b.WriteString("rest")
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}
