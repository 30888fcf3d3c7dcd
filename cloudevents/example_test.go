package cloudevents_test

import (
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/busway/busway/cloudevents"
)

func ExampleEncode() {
	ev := cloudevents.Event{
		ID:              "42",
		Source:          "/services/orders",
		SpecVersion:     cloudevents.SpecVersion,
		Type:            "com.example.order.created.v2",
		Subject:         "Euro € 😀",
		Time:            time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC),
		DataContentType: "application/json",
		Extensions:      map[string]string{"tenant": "acme"},
		Data:            []byte(`{"total":"19.99"}`),
	}
	h := map[string][]string{}
	body, err := cloudevents.Encode(&ev, cloudevents.Binary, h)
	if err != nil {
		panic(err)
	}
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		fmt.Printf("%s: %s\n", k, h[k][0])
	}
	fmt.Printf("body: %s\n", body)
	// Output:
	// ce-datacontenttype: application/json
	// ce-id: 42
	// ce-source: /services/orders
	// ce-specversion: 1.0
	// ce-subject: Euro%20%E2%82%AC%20%F0%9F%98%80
	// ce-tenant: acme
	// ce-time: 2024-05-06T07:08:09Z
	// ce-type: com.example.order.created.v2
	// body: {"total":"19.99"}
}

func ExampleEncode_structured() {
	ev := cloudevents.Event{
		ID:              "42",
		Source:          "/services/orders",
		SpecVersion:     cloudevents.SpecVersion,
		Type:            "com.example.order.created.v2",
		DataContentType: "application/json",
		Extensions:      map[string]string{"priority": "7"},
		Data:            []byte(`{"total":"19.99"}`),
	}
	h := map[string][]string{}
	body, err := cloudevents.Encode(&ev, cloudevents.Structured, h)
	if err != nil {
		panic(err)
	}
	fmt.Println(h["Content-Type"][0])
	fmt.Println(string(body))
	// Output:
	// application/cloudevents+json
	// {"specversion":"1.0","id":"42","source":"/services/orders","type":"com.example.order.created.v2","datacontenttype":"application/json","priority":"7","data":{"total":"19.99"}}
}

func ExampleDecode() {
	// Headers as sdk-go's JetStream binding writes them: no percent-encoding.
	h := map[string][]string{
		"ce-specversion": {"1.0"},
		"ce-id":          {"42"},
		"ce-source":      {"/services/orders"},
		"ce-type":        {"com.example.order.created.v2"},
		"ce-subject":     {"Euro%20%e2%82%ac"},
		"content-type":   {"text/plain"},
		"Nats-Msg-Id":    {"42"},
	}
	ev, err := cloudevents.Decode(h, []byte("hello"))
	if err != nil {
		panic(err)
	}
	fmt.Println(ev.ID, ev.Type, ev.Subject, ev.DataContentType, string(ev.Data))
	fmt.Println(cloudevents.IsEventHeader("Nats-Msg-Id"), cloudevents.IsEventHeader("Ce-Id"))
	// Output:
	// 42 com.example.order.created.v2 Euro € text/plain hello
	// false true
}

func ExampleAttributeError() {
	ev := cloudevents.Event{ID: "1", Source: "not a uri", SpecVersion: "1.0", Type: "t"}
	err := ev.Validate()
	var ae *cloudevents.AttributeError
	fmt.Println(errors.As(err, &ae), ae.Attribute, errors.Is(err, cloudevents.ErrInvalidEvent))
	fmt.Println(err)
	// Output:
	// true source true
	// cloudevents: invalid attribute "source": not a URI-reference: bad character in path
}
