package subject_test

import (
	"strings"
	"testing"

	"github.com/busway/busway/bus/subject"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ofLen returns a valid subject of exactly n bytes: "a.xxx...".
func ofLen(n int) string { return "a." + strings.Repeat("x", n-2) }

// A subject, pattern or token longer than MaxSubjectLen is refused with a
// clear error: on NATS it would make the server close the connection
// (control line over max_control_line) after Publish returned nil.
func TestSubjectLengthLimit(t *testing.T) {
	require.NoError(t, subject.Validate(ofLen(subject.MaxSubjectLen)))
	require.NoError(t, subject.ValidatePattern(ofLen(subject.MaxSubjectLen-2)+".>"))
	for _, n := range []int{subject.MaxSubjectLen + 1, 4096, 5000} {
		err := subject.Validate(ofLen(n))
		require.ErrorIs(t, err, subject.ErrInvalid, "%d bytes", n)
		assert.Contains(t, err.Error(), "longer than")
		assert.Less(t, len(err.Error()), 200, "the error quotes a long subject abbreviated")
		assert.ErrorIs(t, subject.ValidatePattern(ofLen(n-2)+".*"), subject.ErrInvalid, "pattern of %d bytes", n)
	}

	require.NoError(t, subject.ValidateToken(strings.Repeat("t", subject.MaxSubjectLen)))
	assert.ErrorIs(t, subject.ValidateToken(strings.Repeat("t", subject.MaxSubjectLen+1)), subject.ErrInvalid)
}

// Join and Template.Format check the subject they build, not only each
// value: short tokens can add up to a subject that is too long.
func TestBuiltSubjectLengthLimit(t *testing.T) {
	half := strings.Repeat("t", subject.MaxSubjectLen/2)
	_, err := subject.Join(half, half)
	require.ErrorIs(t, err, subject.ErrInvalid)
	assert.Contains(t, err.Error(), "longer than")
	s, err := subject.Join(half[1:], half)
	require.NoError(t, err)
	assert.Len(t, s, subject.MaxSubjectLen)

	tpl := subject.MustParseTemplate("orders.{tenant}.placed")
	_, err = tpl.Format(map[string]string{"tenant": strings.Repeat("t", subject.MaxSubjectLen-len("orders..placed")+1)})
	require.ErrorIs(t, err, subject.ErrInvalid)
	_, err = tpl.Format(map[string]string{"tenant": strings.Repeat("t", subject.MaxSubjectLen-len("orders..placed"))})
	require.NoError(t, err)

	// Escape cannot fail; what it returns for a long value is refused
	// wherever it becomes a subject.
	long := subject.Escape(strings.Repeat("é", subject.MaxSubjectLen/4))
	assert.Greater(t, len(long), subject.MaxSubjectLen)
	assert.ErrorIs(t, subject.ValidateToken(long), subject.ErrInvalid)
	_, err = subject.Join("orders", long)
	assert.ErrorIs(t, err, subject.ErrInvalid)
}

// Group names: at most MaxGroupLen bytes, no whitespace or control
// characters (a NATS queue group name ends at whitespace), anything else
// allowed as in NATS.
func TestValidateGroup(t *testing.T) {
	for _, g := range []string{"billing", "a.b", "g.*.>", "x", strings.Repeat("q", subject.MaxGroupLen), "ünï"} {
		assert.NoError(t, subject.ValidateGroup(g), "%q", g)
	}
	for _, g := range []string{"", "a b", "a\tb", "a\nb", "a\x00b", "a\x7fb", "a\u0085b", strings.Repeat("q", subject.MaxGroupLen+1)} {
		err := subject.ValidateGroup(g)
		assert.ErrorIs(t, err, subject.ErrInvalid, "%q", g)
	}
	assert.ErrorContains(t, subject.ValidateGroup(strings.Repeat("q", 300)), "longer than")
}

// The limits keep every control line a client sends under nats-server's
// default max_control_line (4096): "HPUB <subject> <reply> <hdr> <total>"
// with the reply itself a subject, and "SUB <pattern> <group> <sid>".
func TestLimitsFitControlLine(t *testing.T) {
	const maxControlLine, digits = 4096, 20
	hpub := len("HPUB ") + subject.MaxSubjectLen + 1 + subject.MaxSubjectLen + 1 + digits + 1 + digits
	sub := len("SUB ") + subject.MaxSubjectLen + 1 + subject.MaxGroupLen + 1 + digits
	assert.Less(t, hpub, maxControlLine)
	assert.Less(t, sub, maxControlLine)
}
