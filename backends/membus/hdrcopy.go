package membus

import "unsafe"

// headerCopy is a published message's header, copied at Publish, as NATS
// serialises headers when a message is published: the publisher may reuse
// its map and its strings as soon as Publish returns. text holds the names
// and cleaned values back to back; lens holds, per name, its length, its
// number of values and the length of each value. Every delivery gets its
// own map built from it (see header), as every NATS subscriber parses its
// own; a receiver may change its map without the others seeing it.
type headerCopy struct {
	text    string
	lens    []uint32
	names   int  // names with at least one value
	vals    int  // values
	present bool // the published header had entries: receivers get a map, maybe empty
	// inline holds lens for typical headers (a CloudEvent's ce- headers
	// and a few more) without another allocation.
	inline [24]uint32
}

// headerSize validates h and returns what copying it takes: the bytes of
// its names and cleaned values, the number of lens entries, and the size
// of its NATS wire encoding. An empty or nil h has size 0; a non-empty one
// costs at least the "NATS/1.0\r\n" line and the closing CRLF, as in
// nats.go. A name without values is not sent, as in nats.go.
func headerSize(h map[string][]string) (text, lens, wire int, err error) {
	if len(h) == 0 {
		return 0, 0, 0, nil
	}
	wire = len(hdrLine) + len(crlf)
	for k, vs := range h {
		if err := checkHeaderName(k); err != nil {
			return 0, 0, 0, err
		}
		if len(vs) == 0 {
			continue
		}
		text += len(k)
		lens += 2 + len(vs)
		for _, v := range vs {
			c := cleanValue(v)
			text += len(c)
			wire += len(k) + len(c) + hdrPerValue
		}
	}
	return text, lens, wire, nil
}

// fill copies h (checked by headerSize, which gave nlens) into c, its
// names and cleaned values into buf. buf is never written again, so the
// strings over it stay valid.
func (c *headerCopy) fill(h map[string][]string, buf []byte, nlens int) {
	c.present = len(h) > 0
	c.lens = c.inline[:0]
	if nlens > len(c.inline) {
		c.lens = make([]uint32, 0, nlens)
	}
	b := buf[:0]
	for k, vs := range h {
		if len(vs) == 0 {
			continue
		}
		c.names++
		c.vals += len(vs)
		b = append(b, k...)
		c.lens = append(c.lens, uint32(len(k)), uint32(len(vs)))
		for _, v := range vs {
			v = cleanValue(v)
			b = append(b, v...)
			c.lens = append(c.lens, uint32(len(v)))
		}
	}
	c.text = unsafe.String(unsafe.SliceData(b), len(b))
}

// header returns a fresh map of the copied header (nil when the published
// one was empty): keys and values are substrings of text, the values of
// all names share one backing array, each name's slice capped so that an
// append cannot reach the next.
func (c *headerCopy) header() map[string][]string {
	if !c.present {
		return nil
	}
	h := make(map[string][]string, c.names)
	if c.vals == 0 {
		return h
	}
	vals := make([]string, c.vals)
	off, li, vi := 0, 0, 0
	for range c.names {
		nl, nv := int(c.lens[li]), int(c.lens[li+1])
		li += 2
		k := c.text[off : off+nl]
		off += nl
		for j := range nv {
			vl := int(c.lens[li])
			li++
			vals[vi+j] = c.text[off : off+vl]
			off += vl
		}
		h[k] = vals[vi : vi+nv : vi+nv]
		vi += nv
	}
	return h
}
