package cloudevents

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The NATS binding 1.0.3 draft, section 3.1.3.2: "Euro € 😀" SHOULD be
// encoded as "Euro%20%E2%82%AC%20%F0%9F%98%80".
func TestPercentEncodingSpecExample(t *testing.T) {
	const value, encoded = "Euro € 😀", "Euro%20%E2%82%AC%20%F0%9F%98%80"
	ev := minimalEvent()
	ev.Subject = value
	h := map[string][]string{}
	_, err := Encode(&ev, Binary, h)
	require.NoError(t, err)
	assert.Equal(t, []string{encoded}, h["ce-subject"])

	got, err := Decode(h, nil)
	require.NoError(t, err)
	assert.Equal(t, value, got.Subject)
}

func TestPercentEncodingRules(t *testing.T) {
	for in, want := range map[string]string{
		"plain-ASCII_~!#$&'()*+,/:;=?@[]^`{|}": "plain-ASCII_~!#$&'()*+,/:;=?@[]^`{|}",
		"a b":                                  "a%20b",
		`"`:                                    "%22",
		"100%":                                 "100%25",
		"é":                                    "%C3%A9",
		"\u0085":                               "%C2%85",
	} {
		assert.Equal(t, want, string(appendEscaped(nil, in)), in)
		assert.Equal(t, len(want), escapedLen(in), in)
	}
}

func TestPercentDecoding(t *testing.T) {
	for in, want := range map[string]string{
		"Euro%20%e2%82%ac%20%f0%9f%98%80": "Euro € 😀", // lowercase hex
		"%41%42c":                         "ABc",      // unnecessarily encoded
		"no-escapes":                      "no-escapes",
		"  padded\t":                      "padded",
		`"a b"`:                           "a b",
		`"a\"b\\c"`:                       `a"b\c`,
		`"%41"`:                           "A",
		`""`:                              "",
	} {
		got, err := decodeHeaderValue("x", in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
}

func TestPercentDecodingErrors(t *testing.T) {
	for _, in := range []string{
		"%G1", "%4", "abc%", "%%", "%C0%A0", "%FF", "%E2%82", `"unterminated`, `"a"b"`, `"a\"`,
	} {
		_, err := decodeHeaderValue("subject", in)
		require.Error(t, err, in)
		var ae *AttributeError
		require.True(t, errors.As(err, &ae), in)
		assert.Equal(t, "subject", ae.Attribute)
		assert.ErrorIs(t, err, ErrMalformed)
		assert.ErrorIs(t, err, ErrInvalidEvent)
	}
}

func TestDecodeRejectsBadHeaderValues(t *testing.T) {
	base := func() map[string][]string {
		return map[string][]string{
			"ce-specversion": {"1.0"}, "ce-id": {"1"}, "ce-source": {"/s"}, "ce-type": {"t"},
		}
	}
	for _, tc := range []struct {
		header, value, attr string
	}{
		{"ce-id", "%G1", "id"},
		{"ce-id", "x%4", "id"},
		{"ce-subject", "%C0%A0", "subject"},
		{"ce-type", "%FF", "type"},
		{"Ce-MyExt", "%zz", "myext"},
		{"ce-time", "yesterday", "time"},
		{"ce-time", "%", "time"},
		{"ce-source", "%zz", "source"},
		{"content-type", "%G0", "datacontenttype"},
	} {
		h := base()
		h[tc.header] = []string{tc.value}
		_, err := Decode(h, nil)
		var ae *AttributeError
		require.True(t, errors.As(err, &ae), "%s: %v", tc.header, err)
		assert.Equal(t, tc.attr, ae.Attribute, tc.header)
		assert.ErrorIs(t, err, ErrMalformed, tc.header)
		assert.Contains(t, err.Error(), `"`+tc.attr+`"`)
	}
}

func TestDecodeRejectsDuplicates(t *testing.T) {
	for _, h := range []map[string][]string{
		{"ce-id": {"1"}, "Ce-Id": {"2"}},
		{"ce-id": {"1", "2"}},
		{"ce-ext": {"1"}, "CE-EXT": {"2"}},
		{"content-type": {"a/b"}, "Content-Type": {"a/c"}},
		{"content-type": {"a/b", "a/c"}},
	} {
		h["ce-specversion"] = []string{"1.0"}
		_, err := Decode(h, nil)
		assert.ErrorIs(t, err, ErrMalformed, "%v", h)
		assert.ErrorContains(t, err, "more than once")
	}
}

// The word-at-a-time prefixes agree with byte-by-byte checks.
func TestWordChecks(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		b := make([]byte, rnd.IntN(40))
		for i := range b {
			b[i] = byte(0x20 + rnd.IntN(0x60))
			if rnd.IntN(20) == 0 {
				b[i] = byte(rnd.IntN(256))
			}
		}
		s := string(b)
		var printable, clean int
		for printable < len(s) && s[printable] >= 0x20 && s[printable] < 0x7F {
			printable++
		}
		for clean < len(s) && !mustEscape[s[clean]] {
			clean++
		}
		assert.Equal(t, printable&^7, printablePrefix(s)&^7, "%q", s)
		assert.LessOrEqual(t, printablePrefix(s), printable, "%q", s)
		assert.Equal(t, clean&^7, cleanPrefix(s), "%q", s)
	}
}
