package cqrs

import "github.com/busway/busway/contract"

// Description is a plain description of a service's registrations, for
// tooling (AsyncAPI generation, test harnesses, docs).
type Description struct {
	Service    string          // service name
	DeadLetter string          // dead-letter subject ("" when off)
	Handlers   []HandlerInfo   // in registration order
	Sends      []contract.Info // types declared with Sends
}

// HandlerInfo describes one registered handler: the declaration it
// handles (kind, type, versions, subject, Go type, schema) and the
// consumer group it runs in.
type HandlerInfo struct {
	contract.Info
	Group string
}

// Describe returns the service's registrations.
func (s *Service) Describe() Description {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := Description{Service: s.Name(), DeadLetter: s.cfg.deadLetter}
	for _, k := range s.order {
		for _, e := range s.routes[k].entries {
			d.Handlers = append(d.Handlers, HandlerInfo{Info: e.info, Group: e.group})
		}
	}
	for _, c := range s.sends {
		d.Sends = append(d.Sends, c.Info())
	}
	return d
}
