package contract

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
)

// Break is one backward-incompatible difference between two schemas.
type Break struct {
	Path string // JSON path of the property, e.g. "$.items[].sku"
	What string // "removed", "retyped string -> integer", "required added"
}

// String formats the break as "path: what".
func (b Break) String() string { return b.Path + ": " + b.What }

// Evolution is the result of CheckEvolution.
type Evolution struct {
	From, To   string  // CloudEvents types compared
	Breaks     []Break // backward-incompatible changes, sorted by path
	Upcastable bool    // an upcaster chain leads from From's version to To's
}

// OK reports whether consumers of To can read From's events: the change is
// backward compatible, or an upcaster covers it.
func (e Evolution) OK() bool { return len(e.Breaks) == 0 || e.Upcastable }

// String summarises the check for test failures.
func (e Evolution) String() string {
	if len(e.Breaks) == 0 {
		return fmt.Sprintf("%s -> %s: compatible", e.From, e.To)
	}
	s := fmt.Sprintf("%s -> %s: %d breaking change(s)", e.From, e.To, len(e.Breaks))
	for _, b := range e.Breaks {
		s += "\n  " + b.String()
	}
	if e.Upcastable {
		return s + "\n  covered by a registered upcaster"
	}
	return s + "\n  and no upcaster is registered"
}

// CheckEvolution compares the JSON Schema of an older declaration with a
// newer one of the same base type and reports what breaks readers of the
// new one given old payloads: a property removed, retyped, or newly
// required. It also reports whether newer has an upcaster chain from
// older's version. Use it in a service's tests:
//
//	ev, _ := contract.CheckEvolution(OrderPlacedV1, OrderPlaced)
//	if !ev.OK() { t.Fatal(ev) }
func CheckEvolution(older, newer Contract) (Evolution, error) {
	oi, ni := older.Info(), newer.Info()
	ev := Evolution{From: oi.Type, To: ni.Type}
	if oi.Schema == nil || ni.Schema == nil {
		return ev, fmt.Errorf("contract: CheckEvolution %s -> %s: schema missing", oi.Type, ni.Type)
	}
	var os, ns map[string]any
	if err := json.Unmarshal(oi.Schema, &os); err != nil {
		return ev, err
	}
	if err := json.Unmarshal(ni.Schema, &ns); err != nil {
		return ev, err
	}
	ev.Breaks = compareSchemas("$", os, ns, nil)
	sort.Slice(ev.Breaks, func(i, j int) bool { return ev.Breaks[i].Path < ev.Breaks[j].Path })
	ev.Upcastable = oi.BaseType == ni.BaseType && oi.Version < ni.Version && slices.Contains(ni.Versions, oi.Version)
	return ev, nil
}

func compareSchemas(path string, o, n map[string]any, out []Break) []Break {
	if ot, nt := typeOf(o), typeOf(n); ot != nt && ot != "" && nt != "" {
		return append(out, Break{path, "retyped " + ot + " -> " + nt})
	}
	oreq, nreq := stringList(o["required"]), stringList(n["required"])
	for _, r := range nreq {
		if !slices.Contains(oreq, r) {
			out = append(out, Break{path + "." + r, "required added"})
		}
	}
	op, _ := o["properties"].(map[string]any)
	np, _ := n["properties"].(map[string]any)
	for name, ov := range op {
		nv, ok := np[name]
		if !ok {
			out = append(out, Break{path + "." + name, "removed"})
			continue
		}
		om, _ := ov.(map[string]any)
		nm, _ := nv.(map[string]any)
		out = compareSchemas(path+"."+name, om, nm, out)
	}
	oi, _ := o["items"].(map[string]any)
	ni, _ := n["items"].(map[string]any)
	if oi != nil && ni != nil {
		out = compareSchemas(path+"[]", oi, ni, out)
	}
	return out
}

func typeOf(s map[string]any) string {
	t, _ := s["type"].(string)
	return t
}

func stringList(v any) []string {
	l, _ := v.([]any)
	var out []string
	for _, x := range l {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
