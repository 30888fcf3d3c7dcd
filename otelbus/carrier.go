package otelbus

import (
	"github.com/busway/busway/cloudevents"
)

// carrier reads and writes the CloudEvents distributed-tracing extension
// (traceparent, tracestate) on an event.
type carrier struct{ ev *cloudevents.Event }

// Get returns the extension attribute key.
func (c carrier) Get(key string) string { return c.ev.Extensions[key] }

// Set sets the extension attribute key.
func (c carrier) Set(key, value string) {
	if c.ev.Extensions == nil {
		c.ev.Extensions = make(map[string]string, 2)
	}
	c.ev.Extensions[key] = value
}

// Keys lists the extension attributes.
func (c carrier) Keys() []string {
	keys := make([]string, 0, len(c.ev.Extensions))
	for k := range c.ev.Extensions {
		keys = append(keys, k)
	}
	return keys
}
