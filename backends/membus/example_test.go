package membus_test

import (
	"context"
	"fmt"

	"github.com/busway/busway/backends/membus"
	"github.com/busway/busway/bus/driver"
)

// Two Conns opened with the same Name share one in-process broker: what one
// publishes, a subscriber on the other receives. A Conn opened with no
// Name would get a private broker instead.
func ExampleOpen() {
	ctx := context.Background()
	pub, err := membus.Open(membus.Options{Name: "ExampleOpen"})
	if err != nil {
		panic(err)
	}
	defer pub.Close(ctx)
	subConn, err := membus.Open(membus.Options{Name: "ExampleOpen"})
	if err != nil {
		panic(err)
	}
	defer subConn.Close(ctx)

	got := make(chan string, 1)
	sub, err := subConn.Subscribe(ctx, driver.SubscribeOptions{Subject: "greetings.*"},
		func(m *driver.Message) {
			got <- fmt.Sprintf("%s: %s (attempt %d)", m.Subject, m.Data, m.Attempt)
			_ = m.Acker.Ack(ctx)
		})
	if err != nil {
		panic(err)
	}
	err = pub.Publish(ctx, &driver.Message{Subject: "greetings.en", Data: []byte("hello")})
	if err != nil {
		panic(err)
	}
	fmt.Println(<-got)
	if err := sub.Drain(ctx); err != nil {
		panic(err)
	}
	// Output: greetings.en: hello (attempt 1)
}
