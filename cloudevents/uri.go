package cloudevents

import "strings"

// RFC 3986 character classes. Every class allows unreserved characters and
// sub-delims; percent-encoded octets are checked separately.
var (
	userinfoChars = charset(":")
	regNameChars  = charset("")
	ipLitChars    = charset(":")
	pathChars     = charset(":@/")
	plainChars    = charset("@/") // pathChars without ':'
	queryChars    = charset(":@/?")
)

func charset(extra string) *[256]bool {
	var t [256]bool
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range "-._~" + "!$&'()*+,;=" + extra {
		t[c] = true
	}
	return &t
}

// checkURIRef returns why s is not an RFC 3986 URI-reference (section 4.1),
// or "" when it is one. It does not allocate.
func checkURIRef(s string) string {
	if plainPath(s) {
		return ""
	}
	rest := s
	if i := schemeEnd(s); i >= 0 {
		if !validScheme(s[:i]) {
			return "not a URI-reference: bad scheme " + quote(s[:i])
		}
		rest = s[i+1:]
	}
	return checkHierPart(rest)
}

// plainPath reports whether s is a relative reference made of a path
// alone, in plain characters: no scheme (no ':'), authority, query,
// fragment or percent-encoding. It is the common form of source ("/a/b"),
// checked in one pass.
func plainPath(s string) bool {
	if len(s) >= 2 && s[0] == '/' && s[1] == '/' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !plainChars[s[i]] {
			return false
		}
	}
	return true
}

// checkURI returns why s is not a URI with a scheme (RFC 3986 section 3),
// or "".
func checkURI(s string) string {
	if schemeEnd(s) < 0 {
		return "not an absolute URI: no scheme"
	}
	return checkURIRef(s)
}

// schemeEnd returns the index of the ':' ending a scheme: the first ':'
// before any '/', '?' or '#'; or -1.
func schemeEnd(s string) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ':':
			return i
		case '/', '?', '#':
			return -1
		}
	}
	return -1
}

func validScheme(s string) bool {
	if s == "" || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isAlpha(c) && !isDigit(c) && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

// checkHierPart checks what follows the scheme (or a relative reference):
// ["//" authority] path ["?" query] ["#" fragment].
func checkHierPart(s string) string {
	if i := strings.IndexByte(s, '#'); i >= 0 {
		if !validChars(s[i+1:], queryChars) {
			return "not a URI-reference: bad character in fragment"
		}
		s = s[:i]
	}
	if i := strings.IndexByte(s, '?'); i >= 0 {
		if !validChars(s[i+1:], queryChars) {
			return "not a URI-reference: bad character in query"
		}
		s = s[:i]
	}
	if strings.HasPrefix(s, "//") {
		auth, path := s[2:], ""
		if i := strings.IndexByte(auth, '/'); i >= 0 {
			auth, path = auth[:i], auth[i:]
		}
		if reason := checkAuthority(auth); reason != "" {
			return reason
		}
		s = path
	}
	if !validChars(s, pathChars) {
		return "not a URI-reference: bad character in path"
	}
	return ""
}

// checkAuthority checks [userinfo "@"] host [":" port].
func checkAuthority(a string) string {
	if i := strings.LastIndexByte(a, '@'); i >= 0 {
		if !validChars(a[:i], userinfoChars) {
			return "not a URI-reference: bad character in userinfo"
		}
		a = a[i+1:]
	}
	host, port, hasPort := a, "", false
	if strings.HasPrefix(a, "[") {
		end := strings.IndexByte(a, ']')
		if end < 0 || !validChars(a[1:end], ipLitChars) {
			return "not a URI-reference: bad IP literal"
		}
		host, port = "", a[end+1:]
		if port != "" {
			if port[0] != ':' {
				return "not a URI-reference: bad character after IP literal"
			}
			port, hasPort = port[1:], true
		}
	} else if i := strings.IndexByte(a, ':'); i >= 0 {
		host, port, hasPort = a[:i], a[i+1:], true
	}
	if !validChars(host, regNameChars) {
		return "not a URI-reference: bad character in host"
	}
	for i := 0; hasPort && i < len(port); i++ {
		if !isDigit(port[i]) {
			return "not a URI-reference: bad port"
		}
	}
	return ""
}

// validChars reports whether s holds only characters of class t and
// well-formed percent-encoded octets.
func validChars(s string, t *[256]bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' {
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return false
			}
			i += 2
			continue
		}
		if !t[c] {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isHex(c byte) bool   { return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'f') }
