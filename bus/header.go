package bus

import "slices"

// Header holds a message's transport headers that are not CloudEvents
// attributes (tracing, application headers, the bus's dead-letter
// metadata). Keys are case-sensitive, as in NATS. Names NATS reserves
// (Status, Description, Nats-*; see IsReservedHeader) are refused by
// Publish and never appear on a received message. The zero value (nil) is
// ready to use: Set and Add make the map, so m.Header.Set(k, v) works on
// a new Message.
type Header map[string][]string

// Get returns the first value of key, or "".
func (h Header) Get(key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Values returns every value of key. The caller must not modify the slice.
func (h Header) Values(key string) []string { return h[key] }

// Set replaces the values of key with value.
func (h *Header) Set(key, value string) {
	if *h == nil {
		*h = make(Header, 1)
	}
	(*h)[key] = []string{value}
}

// Add appends value to the values of key.
func (h *Header) Add(key, value string) {
	if *h == nil {
		*h = make(Header, 1)
	}
	(*h)[key] = append((*h)[key], value)
}

// Del removes key.
func (h Header) Del(key string) { delete(h, key) }

// Clone returns a copy of h whose value slices are copies too; nil for a
// nil h.
func (h Header) Clone() Header {
	if h == nil {
		return nil
	}
	c := make(Header, len(h))
	for k, v := range h {
		c[k] = slices.Clone(v)
	}
	return c
}
