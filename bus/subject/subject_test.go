package subject_test

import (
	"testing"

	"github.com/busway/busway/bus/subject"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestValidateSubject(t *testing.T) {
	valid := []string{"foo", "foo.bar", "foo.bar.baz", "$JS.API.INFO", "_INBOX.abc", "foo*.bar", "foo>", "a-b_c.d%e"}
	for _, s := range valid {
		assert.NoError(t, subject.Validate(s), s)
	}
	invalid := []string{"", ".", "foo.", ".foo", "foo..bar", "foo.*", "*", ">", "foo.>", "foo bar", "foo\tbar", "foo\nbar", "foo\x00bar", "foo\x7f"}
	for _, s := range invalid {
		assert.ErrorIs(t, subject.Validate(s), subject.ErrInvalid, "%q", s)
	}
}

func TestValidatePattern(t *testing.T) {
	valid := []string{"foo", "*", ">", "foo.*", "foo.>", "*.bar.>", "foo.*.baz", "*.*", "foo*.bar"}
	for _, s := range valid {
		assert.NoError(t, subject.ValidatePattern(s), s)
	}
	invalid := []string{"", "foo.>.bar", ">.foo", "foo..*", "foo.", " foo", "foo. bar"}
	for _, s := range invalid {
		assert.ErrorIs(t, subject.ValidatePattern(s), subject.ErrInvalid, "%q", s)
	}
}

// Vectors follow nats-server's sublist matching rules.
func TestMatchSubject(t *testing.T) {
	cases := []struct {
		pattern, subject string
		want             bool
	}{
		{"foo", "foo", true},
		{"foo", "bar", false},
		{"foo.*", "foo.bar", true},
		{"foo.*", "foo.bar.baz", false},
		{"foo.*", "foo", false},
		{"foo.>", "foo.bar", true},
		{"foo.>", "foo.bar.baz", true},
		{"foo.>", "foo", false},
		{"*", "foo", true},
		{"*", "foo.bar", false},
		{">", "foo", true},
		{">", "foo.bar.baz", true},
		{"*.bar", "foo.bar", true},
		{"*.bar", "foo.baz", false},
		{"foo.*.baz", "foo.bar.baz", true},
		{"foo.*.baz", "foo.bar.bar", false},
		{"*.*", "a.b", true},
		{"*.*", "a.b.c", false},
		{"*.>", "a.b", true},
		{"*.>", "a", false},
		{"foo*", "foo*", true},
		{"foo*", "foox", false},
		{"foo.bar", "foo.bar.baz", false},
		{"foo.bar.baz", "foo.bar", false},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, subject.Match(c.pattern, c.subject), "%s ~ %s", c.pattern, c.subject)
	}
}

func TestToken(t *testing.T) {
	for _, v := range []string{"acme", "ACME-1", "a_b", "x"} {
		assert.NoError(t, subject.ValidateToken(v), v)
	}
	for _, v := range []string{"", "a.b", "*", ">", "a b", "$SYS", "a\nb", "\x00", "ü"} {
		assert.ErrorIs(t, subject.ValidateToken(v), subject.ErrInvalid, "%q", v)
	}
}

func TestEscapeToken(t *testing.T) {
	cases := map[string]string{
		"acme":    "acme",
		"a.b":     "a%2Eb",
		"*":       "%2A",
		">":       "%3E",
		"a b":     "a%20b",
		"$SYS":    "%24SYS",
		"a$":      "a$",
		"50%":     "50%25",
		"":        "%",
		"ü":       "%C3%BC",
		"x\r\n>.": "x%0D%0A%3E%2E",
	}
	seen := map[string]string{}
	for in, want := range cases {
		got := subject.Escape(in)
		assert.Equal(t, want, got, "%q", in)
		require.NoError(t, subject.Validate("t."+got+".x"), "%q", in)
		assert.Equal(t, "t.*.x", "t.*.x")
		assert.True(t, subject.Match("t.*.x", "t."+got+".x"), "escaped %q is one token", in)
		prev, dup := seen[got]
		assert.False(t, dup, "%q and %q escape alike", in, prev)
		seen[got] = in
	}
}

func TestSubject(t *testing.T) {
	s, err := subject.Join("orders", "acme", "created")
	require.NoError(t, err)
	assert.Equal(t, "orders.acme.created", s)

	for _, bad := range []string{"acme.eu", "*", ">", "", "$SYS", "a b"} {
		_, err := subject.Join("orders", bad, "created")
		assert.ErrorIs(t, err, subject.ErrInvalid, "%q", bad)
		assert.ErrorContains(t, err, "token 1")
	}
	_, err = subject.Join()
	assert.ErrorIs(t, err, subject.ErrInvalid)
}

func TestTemplate(t *testing.T) {
	tpl, err := subject.ParseTemplate("{service}.{entity}.{action}")
	require.NoError(t, err)
	assert.Equal(t, "*.*.*", tpl.Pattern())

	s, err := tpl.Format(map[string]string{"service": "billing", "entity": "invoice", "action": "paid"})
	require.NoError(t, err)
	assert.Equal(t, "billing.invoice.paid", s)
	assert.True(t, subject.Match(tpl.Pattern(), s))

	_, err = tpl.Format(map[string]string{"service": "billing", "entity": "a.b", "action": "paid"})
	assert.ErrorIs(t, err, subject.ErrInvalid)
	assert.ErrorContains(t, err, "{entity}")
	_, err = tpl.Format(map[string]string{"service": "billing", "entity": ">"})
	assert.ErrorIs(t, err, subject.ErrInvalid)

	mixed := subject.MustParseTemplate("orders.{tenant}.created")
	assert.Equal(t, "orders.*.created", mixed.Pattern())

	for _, bad := range []string{"a.{b", "a.b}.c", "a.{}.c", "a.x{b}.c", "a..b", "a.*", ""} {
		_, err := subject.ParseTemplate(bad)
		assert.ErrorIs(t, err, subject.ErrInvalid, "%q", bad)
	}
	assert.Panics(t, func() { subject.MustParseTemplate("a.{") })
}
