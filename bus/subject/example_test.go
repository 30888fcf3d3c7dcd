package subject_test

import (
	"errors"
	"fmt"

	"github.com/busway/busway/bus/subject"
)

func ExampleJoin() {
	tenant := "acme.*" // from an HTTP request: must not add tokens or wildcards
	_, err := subject.Join("orders", tenant, "placed")
	fmt.Println(errors.Is(err, subject.ErrInvalid))

	subj, _ := subject.Join("orders", subject.Escape(tenant), "placed")
	fmt.Println(subj)
	// Output:
	// true
	// orders.acme%2E%2A.placed
}

func ExampleTemplate() {
	t := subject.MustParseTemplate("{service}.{entity}.{action}")
	subj, _ := t.Format(map[string]string{"service": "billing", "entity": "invoice", "action": "paid"})
	fmt.Println(subj)
	fmt.Println(t.Pattern())
	// Output:
	// billing.invoice.paid
	// *.*.*
}

func ExampleMatch() {
	fmt.Println(subject.Match("orders.*.placed", "orders.eu.placed"))
	fmt.Println(subject.Match("orders.>", "orders"))
	// Output:
	// true
	// false
}
