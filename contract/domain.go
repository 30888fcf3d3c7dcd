package contract

import (
	"strconv"
	"strings"

	"github.com/busway/busway/bus/subject"
)

// SubjectFunc derives the routing subject of a declared type from its
// service, entity and action tokens.
type SubjectFunc func(service, entity, action string) string

// DefaultSubject is the default subject strategy: "{service}.{entity}.{action}",
// e.g. "orders.order.placed".
func DefaultSubject(service, entity, action string) string {
	return service + "." + entity + "." + action
}

// Domain is a service's naming scope. It knows the CloudEvents type prefix
// (reverse DNS, e.g. "com.example"), the service name (the first subject
// token, the consumer group of the service's event handlers), the subject
// strategy and the schema URI base. Types declared in it are named
//
//	type    {prefix}.{entity}.{action}.v{N}      com.example.order.placed.v2
//	subject {service}.{entity}.{action}          orders.order.placed
//	schema  urn:{prefix}:schema:{type}           (or {base}{type}.json, see SchemaBase)
type Domain struct {
	prefix     string
	service    string
	subjects   SubjectFunc
	schemaBase string
}

// DomainOption configures a Domain.
type DomainOption func(*Domain)

// Subjects replaces the subject strategy of every type declared in the
// domain (an explicit Subject option on a declaration still wins).
func Subjects(f SubjectFunc) DomainOption { return func(d *Domain) { d.subjects = f } }

// SchemaBase makes dataschema URIs base + type + ".json" (e.g.
// "https://schemas.example.com/" gives
// "https://schemas.example.com/com.example.order.placed.v2.json") instead
// of the default "urn:{prefix}:schema:{type}".
func SchemaBase(base string) DomainOption { return func(d *Domain) { d.schemaBase = base } }

// NewDomain returns the naming scope of service, with CloudEvents types
// prefixed by prefix (reverse DNS). Both are checked: prefix as dot-separated
// lowercase tokens, service as a single subject token.
func NewDomain(prefix, service string, opts ...DomainOption) (*Domain, error) {
	d := &Domain{prefix: prefix, service: service, subjects: DefaultSubject}
	for _, o := range opts {
		o(d)
	}
	if err := checkName(prefix, true); err != nil {
		return nil, declErr("domain prefix %q: %v", prefix, err)
	}
	if err := subject.ValidateToken(service); err != nil {
		return nil, declErr("domain service %q: %v", service, err)
	}
	if d.subjects == nil {
		return nil, declErr("domain %q: nil subject strategy", service)
	}
	return d, nil
}

// MustDomain is NewDomain for package-level declarations: it panics with
// the error instead of returning it.
func MustDomain(prefix, service string, opts ...DomainOption) *Domain {
	d, err := NewDomain(prefix, service, opts...)
	if err != nil {
		panic(err)
	}
	return d
}

// Service returns the service name (first subject token, consumer group).
func (d *Domain) Service() string { return d.service }

// Prefix returns the CloudEvents type prefix (reverse DNS).
func (d *Domain) Prefix() string { return d.prefix }

// typeName is the CloudEvents type of entity/action at version v.
func (d *Domain) typeName(entity, action string, v int) string {
	return d.prefix + "." + entity + "." + action + ".v" + strconv.Itoa(v)
}

// schemaURI is the dataschema of ceType.
func (d *Domain) schemaURI(ceType string) string {
	if d.schemaBase != "" {
		return d.schemaBase + ceType + ".json"
	}
	return "urn:" + d.prefix + ":schema:" + ceType
}

// checkName accepts lowercase ASCII letters, digits, '-' and '_' in
// tokens; dots separate tokens when dotted.
func checkName(s string, dotted bool) error {
	if s == "" {
		return errEmpty
	}
	for _, tok := range strings.Split(s, ".") {
		if tok == "" || (!dotted && tok != s) {
			return errDots
		}
		for _, c := range tok {
			if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' && c != '_' {
				return errChars
			}
		}
	}
	return nil
}

type nameError string

func (e nameError) Error() string { return string(e) }

const (
	errEmpty = nameError("empty")
	errDots  = nameError("empty token or unexpected dot")
	errChars = nameError("only lowercase letters, digits, '-' and '_' are allowed")
)

// ParseType splits a versioned CloudEvents type "base.vN" into base and N.
// ok is false when t has no ".vN" suffix with N >= 1.
func ParseType(t string) (base string, version int, ok bool) {
	i := strings.LastIndex(t, ".v")
	if i <= 0 {
		return "", 0, false
	}
	n, err := strconv.Atoi(t[i+2:])
	if err != nil || n < 1 || strconv.Itoa(n) != t[i+2:] {
		return "", 0, false
	}
	return t[:i], n, true
}
