package membus

import (
	"fmt"
	"net/textproto"
	"strings"

	"github.com/busway/busway/bus/driver"
)

// NATS wire framing of a header block, as nats.go writes it.
const (
	hdrLine = "NATS/1.0\r\n"
	crlf    = "\r\n"
	// hdrPerValue is ": " plus CRLF after each "Name: value".
	hdrPerValue = 4
)

// validKeyChars is nats.go's table of bytes allowed in a header name:
// printable ASCII (33..126) except the separators "()/,:;<=>?@[\]{}.
var validKeyChars = func() (set [256]bool) {
	const forbidden = "\"()/,:;<=>?@[\\]{}"
	for c := byte(33); c <= 126; c++ {
		set[c] = strings.IndexByte(forbidden, c) < 0
	}
	return set
}()

var valueReplacer = strings.NewReplacer("\r", " ", "\n", " ")

// checkHeaderName reports whether k is a header name NATS accepts. The
// names the bus writes on every message are known good and skip the scan.
func checkHeaderName(k string) error {
	if isBusHeader(k) {
		return nil
	}
	if k == "" {
		return fmt.Errorf("%w: empty header name", driver.ErrInvalidHeader)
	}
	for i := 0; i < len(k); i++ {
		if !validKeyChars[k[i]] {
			return fmt.Errorf("%w: header name %q: byte %q at %d is not allowed "+
				"(printable ASCII except \"()/,:;<=>?@[\\]{})",
				driver.ErrInvalidHeader, k, k[i], i)
		}
	}
	return nil
}

// isBusHeader reports whether k is one of the CloudEvents header names
// package bus writes (binary mode, or Content-Type in structured mode).
// The switch compiles to a few length and word comparisons.
func isBusHeader(k string) bool {
	switch k {
	case "ce-specversion", "ce-id", "ce-source", "ce-type", "ce-subject", "ce-time",
		"ce-datacontenttype", "ce-dataschema", "Content-Type":
		return true
	}
	return false
}

// cleanValue is the value as NATS delivers it: nats.go trims surrounding
// ASCII whitespace and turns CR and LF into spaces. The common case, a
// value with neither, is two vectorised scans and no allocation.
func cleanValue(v string) string {
	if v != "" && (isSpace(v[0]) || isSpace(v[len(v)-1])) {
		v = textproto.TrimString(v)
	}
	if strings.IndexByte(v, '\r') >= 0 || strings.IndexByte(v, '\n') >= 0 {
		return valueReplacer.Replace(v)
	}
	return v
}

// isSpace is textproto's ASCII whitespace.
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
