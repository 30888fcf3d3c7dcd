package cloudevents

// binaryDecoder collects ce- headers into an Event.
type binaryDecoder struct {
	ev    *Event
	seen  [numAttrs]bool
	pre   *prechecked // checks done while reading; the value lives outside d, which would move ev to the heap
	ctype []string    // values of the Content-Type header
	dupCT bool        // Content-Type given under two spellings
	ce    int         // ce- headers seen
	other int         // headers that are not event headers
}

// decodeMessage reads a message in one pass over h: it collects the ce-
// headers and Content-Type, then reads the body as structured when
// Content-Type says so (ce- headers are then ignored), else as binary. A
// message without any ce- header whose body is a JSON object is also read
// as structured: sdk-go's JetStream binding sends structured events without
// a Content-Type.
func decodeMessage(ev *Event, h map[string][]string, body []byte, other *int) error {
	pre := prechecked{ext: true} // extension calls checkExtension
	d := binaryDecoder{ev: ev, pre: &pre}
	var first error // kept out of d: escape analysis would move ev to the heap
	for k, vs := range h {
		if err := d.header(k, vs); err != nil && first == nil {
			first = err
		}
	}
	*other = d.other
	if d.dupCT {
		return malformed("datacontenttype", "Content-Type header given more than once")
	}
	var err error
	if ct, ok := d.structured(); ok {
		*ev, err = decodeStructured(ct, body)
		return err
	}
	if d.ce == 0 && looksLikeJSONObject(body) {
		*ev, err = decodeJSON(body)
		return err
	}
	if first != nil {
		return first
	}
	if err := d.contentType(); err != nil {
		return err
	}
	if len(body) > 0 {
		ev.Data = body
	}
	return ev.validate(&pre)
}

// header reads one header; after an error the caller keeps going only to
// find Content-Type.
func (d *binaryDecoder) header(k string, vs []string) error {
	if !hasEventPrefix(k) {
		if !isContentType(k) {
			d.other++
		} else if len(vs) > 0 {
			d.dupCT = d.ctype != nil
			d.ctype = vs
		}
		return nil
	}
	if len(vs) == 0 {
		return nil
	}
	d.ce++
	name := k[len("ce-"):]
	switch i := attrIndex(name); {
	case len(vs) > 1:
		return malformed(lowerASCII(name), "header given more than once")
	case i >= 0:
		return d.attribute(i, vs[0])
	}
	return d.extension(lowerASCII(name), vs[0])
}

// structured returns the Content-Type value when it announces structured
// mode: it starts with "application/cloudevents", case-insensitively (NATS
// binding 1.0.3 draft, section 3).
func (d *binaryDecoder) structured() (string, bool) {
	const prefix = "application/cloudevents"
	if d.ctype == nil {
		return "", false
	}
	v := trimOWS(d.ctype[0])
	ok := len(v) >= len(prefix) && equalFoldASCII(v[:len(prefix)], prefix)
	return v, ok
}

// attribute sets context attribute i from header value raw.
func (d *binaryDecoder) attribute(i int, raw string) error {
	name := attrNames[i]
	if d.seen[i] {
		return malformed(name, "header given more than once")
	}
	d.seen[i] = true
	v, err := decodeHeaderValue(name, raw)
	switch i {
	case attrTime:
		if err == nil {
			d.ev.Time, err = parseTime(v)
		}
		return err
	case attrSource:
		v, d.pre.source, err = uriFallback(raw, v, err, checkURIRef)
	case attrDataSchema:
		v, _, err = uriFallback(raw, v, err, checkURI)
	}
	*d.ev.field(i) = v
	return err
}

// uriFallback keeps the raw header value of a URI attribute when decoding
// it failed or did not give a URI but the raw value is one. A conforming
// sender never produces such a value (it percent-encodes '%'), while
// sdk-go's JetStream binding writes URIs like "/a%20b" unencoded. ok
// reports that the value returned passed check.
func uriFallback(raw, v string, err error, check func(string) string) (_ string, ok bool, _ error) {
	if err == nil && check(v) == "" {
		return v, true, nil
	}
	if raw = trimOWS(raw); raw != "" && check(raw) == "" {
		return raw, true, nil
	}
	return v, false, err
}

func (d *binaryDecoder) extension(name, raw string) error {
	v, err := decodeHeaderValue(name, raw)
	if err != nil {
		return err
	}
	if d.ev.Extensions == nil {
		d.ev.Extensions = make(map[string]string, 4)
	} else if _, dup := d.ev.Extensions[name]; dup {
		return malformed(name, "header given more than once")
	}
	d.ev.Extensions[name] = v
	d.pre.checkExtension(name, v)
	return nil
}

// contentType applies an unprefixed Content-Type header (sdk-go's JetStream
// binding reads it) when no ce-datacontenttype was given.
func (d *binaryDecoder) contentType() error {
	if d.ctype == nil || d.seen[attrDataContentType] {
		return nil
	}
	if len(d.ctype) > 1 {
		return malformed("datacontenttype", "Content-Type header given more than once")
	}
	v, err := decodeHeaderValue("datacontenttype", d.ctype[0])
	d.ev.DataContentType = v
	return err
}

func looksLikeJSONObject(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return c == '{'
	}
	return false
}

// lowerASCII lowercases s, allocating only when s has an uppercase letter.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; c >= 'A' && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// equalFoldASCII compares s with lower (all lowercase), folding ASCII
// letters only.
func equalFoldASCII(s, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}
