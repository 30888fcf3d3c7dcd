package subject_test

import (
	"fmt"
	"testing"

	"github.com/busway/busway/bus/subject"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Vectors from nats-server server/sublist_test.go
// (TestSublistValidLiteralSubjects, TestSublistValidSubjects).
func TestValidateSubjectNATSVectors(t *testing.T) {
	valid := []string{
		"foo", "foo.bar", "foo*", "foo**", "foo.**", "foo*bar", "foo.*bar",
		"foo*.bar", "*bar", "foo>", "foo>>", "foo.>>", "foo>bar", "foo.>bar",
		"foo>.bar", ">bar", "$JS.API.INFO", "_INBOX.abc", "ünï.cödé", "a-b_c:d",
	}
	invalid := []string{
		"", ".", ".foo", "foo.", "foo..bar", "foo.bar.*", "foo.bar.>", "*", ">",
		"foo.*.bar", "foo bar", "foo\tbar", "foo\rbar", "foo\nbar", "foo\fbar",
		" ", "foo.\x00", "foo\x1b", "foo\x7f", "foo\u0085",
	}
	for _, s := range valid {
		assert.NoError(t, subject.Validate(s), "%q", s)
	}
	for _, s := range invalid {
		err := subject.Validate(s)
		if assert.Error(t, err, "%q", s) {
			assert.ErrorIs(t, err, subject.ErrInvalid)
			assert.Contains(t, err.Error(), fmt.Sprintf("%q", s))
		}
	}
}

func TestValidatePatternNATSVectors(t *testing.T) {
	valid := []string{
		"foo", "foo.bar.*", "foo.bar.>", "*", ">", "*.*", "*.>", "foo.*.bar",
		"foo*", "foo**", "foo.**", "foo*bar", "foo.*bar", "foo*.bar", "*bar",
		"foo>", "foo.>>", "foo>bar", "foo.>bar", "foo>.bar", ">bar", "foo.*-", "foo.>-",
	}
	invalid := []string{
		"", ".", ".foo", "foo.", "foo..bar", ">.bar", "foo.>.bar", "a.b..d",
		"a.>.b", "foo.> ", "foo .*", "*\t", "foo.\n", "foo.\x01",
	}
	for _, s := range valid {
		assert.NoError(t, subject.ValidatePattern(s), "%q", s)
	}
	for _, s := range invalid {
		err := subject.ValidatePattern(s)
		if assert.Error(t, err, "%q", s) {
			assert.ErrorIs(t, err, subject.ErrInvalid)
		}
	}
}

// Vectors from nats-server TestSublistMatchLiterals (matchLiteral takes the
// literal first), the wildcard tests and TestSublistMatchWithEmptyTokens.
func TestMatchSubjectNATSVectors(t *testing.T) {
	tests := []struct {
		pattern, subject string
		want             bool
	}{
		{"foo", "foo", true},
		{"bar", "foo", false},
		{"*", "foo", true},
		{"*", "foo.bar", false},
		{">", "foo", true},
		{">", "foo.bar", true},
		{">", "foo.bar.baz", true},
		{"foo.>", "foo.bar", true},
		{"foo.>", "foo.bar.baz", true},
		{"foo.>", "foo", false},
		{"bar.>", "foo.bar", false},
		{"foo.*", "foo.bar", true},
		{"foo.*", "foo.bar.baz", false},
		{"foo.*", "foo", false},
		{"stats.>", "stats.test.22", true},
		{"stats.*.*", "stats.test.22", true},
		{"foo", "foo.bar", false},
		{"stats.test.foos", "stats.test.foos", true},
		{"stats.test.foo", "stats.test.foos", false},
		{"stats.test.*", "stats.test", false},
		{"stats.*", "stats.test.foos", false},
		{"stats.*.*.foos", "stats.test.foos", false},
		{"a.*.c", "a.b.c", true},
		{"a.*.c", "a.b.d", false},
		{"*.*.c", "a.b.c", true},
		{"*.b.>", "a.b.c.d", true},
		{"*.>", "a", false},
		// Wildcard characters that are not whole tokens are literal.
		{"*bar", "*bar", true},
		{"*bar", "foobar", false},
		{"foo*", "foo*", true},
		{"foo*", "foox", false},
		{"foo*bar", "foo*bar", true},
		{"foo.***.bar", "foo.***.bar", true},
		{">bar", ">bar", true},
		{"foo>", "foo>", true},
		{"foo>", "foo.bar", false},
		{"foo>bar", "foo>bar", true},
		{"foo.>>>.bar", "foo.>>>.bar", true},
		{"foo.*-", "foo.bar", false},
		{"foo.*-", "foo.*-", true},
		{"foo.>-", "foo.bar", false},
		{"foo.>-", "foo.>-", true},
		// Subjects with empty tokens match nothing.
		{">", ".foo", false},
		{">", "..foo", false},
		{">", "foo..", false},
		{">", "foo.", false},
		{">", "foo..bar", false},
		{">", "foo...bar", false},
		{"foo.>", "foo.bar.", false},
		{"*.*", ".", false},
		{"foo.*", "foo.", false},
		{">", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, subject.Match(tt.pattern, tt.subject), "subject.Match(%q, %q)", tt.pattern, tt.subject)
	}
}

func TestSubjectErrorText(t *testing.T) {
	err := subject.Validate("foo..bar")
	require.EqualError(t, err, `busway: invalid subject "foo..bar": empty token`)
	err = subject.ValidatePattern("foo.>.bar")
	require.EqualError(t, err, `busway: invalid subject "foo.>.bar": ">" is not the last token`)
}
