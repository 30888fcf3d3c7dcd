package asyncapi

import (
	"github.com/busway/busway/contract"
	"github.com/busway/busway/cqrs"
)

// FromService returns the model of a cqrs service's registrations (its
// handlers and the types it declared with Sends).
func FromService(svc *cqrs.Service) Model { return FromDescription(svc.Describe()) }

// FromServices returns one model for several services (e.g. every
// service of one binary), named title: the registrations of each, in order.
// Operations are told apart by group, so two services receiving one event
// type are two operations.
func FromServices(title string, svcs ...*cqrs.Service) Model {
	m := Model{Service: title}
	for _, s := range svcs {
		m.Registrations = append(m.Registrations, FromService(s).Registrations...)
	}
	return m
}

// FromDescription maps a cqrs.Description onto a Model: each handler is a
// receive operation of its current type (and of each older version it reads
// through upcasters, as a message without a schema), each Sends type a send
// operation; a query carries its reply either way.
func FromDescription(d cqrs.Description) Model {
	m := Model{Service: d.Service}
	for _, h := range d.Handlers {
		m.Registrations = append(m.Registrations, registration(h.Info, Receive, h.Group))
		for _, t := range h.Types {
			if t != h.Type {
				m.Registrations = append(m.Registrations, Registration{
					Kind: Kind(h.Kind), Action: Receive, Type: t, Subject: h.Subject, Group: h.Group,
					ContentType: h.ContentType, GoType: "older version, upcast to " + h.GoType,
				})
			}
		}
	}
	for _, s := range d.Sends {
		m.Registrations = append(m.Registrations, registration(s, Send, ""))
	}
	return m
}

func registration(i contract.Info, a Action, group string) Registration {
	r := Registration{
		Kind: Kind(i.Kind), Action: a, Type: i.Type, Subject: i.Subject, Group: group,
		GoType: i.GoType, ContentType: i.ContentType, DataSchema: i.SchemaURI, Schema: i.Schema,
	}
	if i.Kind == contract.KindQuery {
		r.Reply = &Reply{Type: i.ReplyType, GoType: i.ReplyGoType, ContentType: i.ContentType, Schema: i.ReplySchema}
	}
	return r
}
