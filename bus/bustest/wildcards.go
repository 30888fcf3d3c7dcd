package bustest

import (
	"strconv"
	"testing"

	"github.com/busway/busway/bus"
	"github.com/stretchr/testify/assert"
)

// wildcardCase is one NATS subject-matching vector: a pattern, the
// subjects that must reach it and the subjects that must not. Subjects are
// relative to the case's own prefix.
type wildcardCase struct {
	pattern string
	match   []string
	miss    []string
}

// wildcardCases follow nats-server's sublist rules: "*" is exactly one
// token, ">" one or more trailing tokens, and "*" or ">" inside a longer
// token is a literal character.
var wildcardCases = []wildcardCase{
	{"foo.bar", []string{"foo.bar"}, []string{"foo", "foo.bar.baz", "foo.baR", "foo.barx"}},
	{"foo.*", []string{"foo.bar", "foo.baz"}, []string{"foo", "foo.bar.baz", "bar.foo"}},
	{"*.bar", []string{"foo.bar", "baz.bar"}, []string{"bar", "foo.baz", "foo.bar.baz"}},
	{"foo.*.baz", []string{"foo.bar.baz", "foo.x.baz"}, []string{"foo.baz", "foo.bar.qux", "foo.bar.x.baz"}},
	{"*", []string{"foo", "bar"}, []string{"foo.bar"}},
	{"*.*", []string{"foo.bar"}, []string{"foo", "foo.bar.baz"}},
	{"foo.>", []string{"foo.bar", "foo.bar.baz"}, []string{"foo", "bar.baz", "foobar.baz"}},
	{">", []string{"foo", "foo.bar", "foo.bar.baz"}, nil},
	{"*.>", []string{"foo.bar", "foo.bar.baz"}, []string{"foo"}},
	{"foo.*.>", []string{"foo.bar.baz", "foo.bar.baz.qux"}, []string{"foo.bar", "foo"}},
	{"foo*", []string{"foo*"}, []string{"foo", "foobar", "foo*.bar"}},
	{"foo.bar*", []string{"foo.bar*"}, []string{"foo.bar", "foo.barx"}},
	{"*foo", []string{"*foo"}, []string{"foo", "xfoo"}},
	{"foo.>bar", []string{"foo.>bar"}, []string{"foo.bar", "foo.x.bar", "foo.x"}},
}

// testWildcards subscribes to each pattern, publishes every subject of
// every case, and checks that exactly the matching ones arrived. Each case
// lives under its own prefix, so cases do not see each other's messages; a
// sentinel on a matching subject, published last, marks the end.
func testWildcards(e *env) {
	t := e.t
	if !e.f.Wildcards {
		t.Skip("the backend matches subjects exactly, without \"*\" or \">\" (Features.Wildcards is false)")
	}
	sub, pub := e.bus(), e.bus()
	recs := make([]*Recording, len(wildcardCases))
	for i, c := range wildcardCases {
		recs[i] = Recorder(t, sub, e.caseSubject(i, c.pattern))
	}
	ends := make([]string, len(wildcardCases))
	for i, c := range wildcardCases {
		for _, s := range append(append([]string(nil), c.miss...), c.match...) {
			e.publish(t, pub, bus.NewMessage(e.caseSubject(i, s), testType, []byte(s)))
		}
		ends[i] = e.publish(t, pub, sentinel(e.caseSubject(i, c.match[0]))).Event.ID
	}
	for i, c := range wildcardCases {
		t.Run(c.pattern, func(t *testing.T) {
			ms, _ := e.settled(t, recs[i].col, ends[i], len(c.match))
			got := make([]string, len(ms))
			for j, m := range ms {
				got[j] = string(m.Event.Data)
				assert.Equal(t, e.caseSubject(i, got[j]), m.Subject, "delivered subject")
			}
			assert.ElementsMatch(t, c.match, got, "subjects delivered to pattern %q", c.pattern)
		})
	}
}

// caseSubject puts a case-relative subject or pattern under the case's
// prefix.
func (e *env) caseSubject(i int, rel string) string {
	return e.subject("w"+strconv.Itoa(i), rel)
}
