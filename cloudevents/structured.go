package cloudevents

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/types"
)

// encodeStructured writes ev (already validated) in the JSON event format
// with sdk-go's writer. Data goes inline as "data" when datacontenttype is
// JSON (*/json or */*+json) and Data is valid JSON without surrounding
// whitespace (so it reads back byte for byte); otherwise as "data_base64".
func encodeStructured(ev *Event) ([]byte, error) {
	se := toSDK(ev)
	inline := inlineJSON(ev)
	if !inline && len(ev.Data) > 0 {
		se.DataEncoded, se.DataBase64 = ev.Data, true
	}
	var buf bytes.Buffer
	buf.Grow(256 + len(ev.Data)*4/3)
	if err := event.WriteJson(&se, &buf); err != nil {
		return nil, fmt.Errorf("cloudevents: structured encoding: %w", err)
	}
	if inline {
		// sdk-go (v2.16) writes "data" inline only for application/json and
		// text/json, and as a JSON string for other */*+json types, so the
		// member is added here: WriteJson's output always ends with '}'.
		buf.Truncate(buf.Len() - 1)
		buf.WriteString(`,"data":`)
		buf.Write(ev.Data)
		buf.WriteByte('}')
	}
	return buf.Bytes(), nil
}

func inlineJSON(ev *Event) bool {
	d := ev.Data
	if len(d) == 0 || !isJSONMediaType(ev.DataContentType) {
		return false
	}
	if isJSONSpace(d[0]) || isJSONSpace(d[len(d)-1]) {
		return false
	}
	return utf8.Valid(d) && json.Valid(d)
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// toSDK builds sdk-go's event from ev, without data. Source and dataschema
// are handed over verbatim: a url.URL holding only Opaque prints exactly
// that string, where url.Parse would normalize it (lowercase the scheme,
// re-escape the path).
func toSDK(ev *Event) event.Event {
	ec := &event.EventContextV1{
		ID:     ev.ID,
		Type:   ev.Type,
		Source: types.URIRef{URL: url.URL{Opaque: ev.Source}},
	}
	if ev.Subject != "" {
		ec.Subject = &ev.Subject
	}
	if !ev.Time.IsZero() {
		ec.Time = &types.Timestamp{Time: ev.Time}
	}
	if ev.DataContentType != "" {
		ec.DataContentType = &ev.DataContentType
	}
	if ev.DataSchema != "" {
		ec.DataSchema = &types.URI{URL: url.URL{Opaque: ev.DataSchema}}
	}
	if len(ev.Extensions) > 0 {
		ec.Extensions = make(map[string]any, len(ev.Extensions))
		for k, v := range ev.Extensions {
			ec.Extensions[k] = v
		}
	}
	return event.Event{Context: ec}
}

// decodeStructured reads a structured-mode body whose Content-Type is ct.
func decodeStructured(ct string, body []byte) (Event, error) {
	mt := ct
	if i := strings.IndexByte(mt, ';'); i >= 0 {
		mt = mt[:i]
	}
	mt = strings.TrimSpace(mt)
	switch {
	case strings.EqualFold(mt, ContentTypeStructuredJSON),
		strings.EqualFold(mt, "application/cloudevents"):
		return decodeJSON(body)
	case strings.EqualFold(mt, "application/cloudevents-batch+json"):
		return Event{}, fmt.Errorf("%w: batch content mode is not supported", ErrMalformed)
	}
	return Event{}, fmt.Errorf("%w: unsupported event format %s", ErrMalformed, quote(ct))
}

// decodeJSON reads an event in the JSON event format.
func decodeJSON(body []byte) (Event, error) {
	var ev Event
	if !utf8.Valid(body) {
		return ev, fmt.Errorf("%w: structured event is not valid UTF-8", ErrMalformed)
	}
	r := jsonReader{ev: &ev, seen: make(map[string]bool, 12)}
	if err := r.readObject(body); err != nil {
		return ev, err
	}
	if err := r.setData(); err != nil {
		return ev, err
	}
	return ev, ev.Validate()
}
