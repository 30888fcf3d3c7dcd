package bus

import (
	"errors"
	"net/url"
	"slices"
	"strings"
)

// secretParams are query parameter names whose values Redact hides.
var secretParams = []string{"password", "pass", "token", "nkey", "seed", "creds", "secret", "jwt", "key"}

// Redact returns u as a string with credentials hidden: the user info
// (user, password, or a token in the user position) and the values of
// query parameters that look like secrets. The rest of the query reads as
// written (subjects=orders.>,billing.>, not re-encoded). Use it whenever
// a bus URL is logged or put in an error.
func Redact(u *url.URL) string {
	c := *u
	if c.User != nil {
		c.User = url.User("REDACTED")
	}
	params := splitQuery(c.RawQuery)
	for i, p := range params {
		k, _, _ := strings.Cut(p, "=")
		if name, err := url.QueryUnescape(k); err != nil || slices.Contains(secretParams, strings.ToLower(name)) {
			params[i] = k + "=REDACTED"
		}
	}
	c.RawQuery = ""
	s := c.String()
	if len(params) > 0 {
		s += "?" + strings.Join(params, "&")
	}
	return s
}

// redactParseError describes a URL parse failure without echoing a URL
// that may hold credentials: the parser's detail is kept only when the URL
// has no user info.
func redactParseError(err error, raw string) string {
	var ue *url.Error
	if errors.As(err, &ue) && !strings.Contains(raw, "@") {
		return ue.Err.Error()
	}
	return "malformed URL; details hidden because it may hold credentials"
}
