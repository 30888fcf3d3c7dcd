// Command watermill is the order service of examples/orders written on
// Watermill's components/cqrs (with components/requestreply for the query),
// on its in-process gochannel pub/sub, for the line count next to the Busway
// version (../busway). Lines between "//count:plumbing" and "//count:end"
// are plumbing: names, wiring, start/stop.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/components/cqrs"
	"github.com/ThreeDotsLabs/watermill/components/requestreply"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
)

type PlaceOrder struct {
	OrderID string `json:"order_id"`
	SKU     string `json:"sku"`
	Qty     int    `json:"qty"`
	Cents   int    `json:"cents"`
}

type OrderPlacedV1 struct {
	OrderID string  `json:"order_id"`
	Amount  float64 `json:"amount"`
}

type OrderPlacedV2 struct {
	OrderID    string `json:"order_id"`
	SKU        string `json:"sku"`
	Qty        int    `json:"qty"`
	TotalCents int    `json:"total_cents"`
}

type GetOrder struct {
	OrderID string `json:"order_id"`
}

type OrderView struct {
	OrderID    string `json:"order_id"`
	Status     string `json:"status"`
	TotalCents int    `json:"total_cents"`
}

//count:plumbing
const (
	commandsTopic = "orders.commands."
	eventsTopic   = "orders.events"
	repliesTopic  = "orders.replies."
	deadTopic     = "orders.dead"
)

var marshaler = cqrs.JSONMarshaler{GenerateName: cqrs.StructName}

// permanentError marks a failure that must not be retried.
type permanentError struct{ error }

func isPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}

// upcastV1 lets a group handle OrderPlacedV1 with its OrderPlacedV2 handler.
func upcastV1(h func(ctx context.Context, e *OrderPlacedV2) error) cqrs.GroupEventHandler {
	return cqrs.NewGroupEventHandler(func(ctx context.Context, e *OrderPlacedV1) error {
		v2, err := upcastOrderPlaced(*e)
		if err != nil {
			return permanentError{err}
		}
		return h(ctx, &v2)
	})
}

//count:end

func upcastOrderPlaced(v1 OrderPlacedV1) (OrderPlacedV2, error) {
	return OrderPlacedV2{OrderID: v1.OrderID, SKU: "unknown", Qty: 1, TotalCents: int(math.Round(v1.Amount * 100))}, nil
}

func ordersHandlers(eventBus *cqrs.EventBus, backend requestreply.Backend[OrderView]) []cqrs.CommandHandler {
	var mu sync.Mutex
	orders := map[string]OrderView{}
	return []cqrs.CommandHandler{
		cqrs.NewCommandHandler("orders.place", func(ctx context.Context, c *PlaceOrder) error {
			total := c.Qty * c.Cents
			mu.Lock()
			orders[c.OrderID] = OrderView{OrderID: c.OrderID, Status: "placed", TotalCents: total}
			mu.Unlock()
			return eventBus.Publish(ctx, &OrderPlacedV2{OrderID: c.OrderID, SKU: c.SKU, Qty: c.Qty, TotalCents: total})
		}),
		requestreply.NewCommandHandlerWithResult("orders.get", backend, func(ctx context.Context, q *GetOrder) (OrderView, error) {
			mu.Lock()
			defer mu.Unlock()
			if o, ok := orders[q.OrderID]; ok {
				return o, nil
			}
			return OrderView{}, fmt.Errorf("order %s: not found", q.OrderID)
		}),
	}
}

func billingHandlers(done *sync.WaitGroup) []cqrs.GroupEventHandler {
	var calls atomic.Int32
	charge := func(ctx context.Context, e *OrderPlacedV2) error {
		if calls.Add(1) == 1 {
			return errors.New("payment gateway timeout")
		}
		log.Printf("billing: charged %s %d cents", e.OrderID, e.TotalCents)
		done.Done()
		return nil
	}
	return []cqrs.GroupEventHandler{cqrs.NewGroupEventHandler(charge), upcastV1(charge)}
}

func shippingHandlers(done *sync.WaitGroup) []cqrs.GroupEventHandler {
	const stock = 10
	ship := func(ctx context.Context, e *OrderPlacedV2) error {
		defer done.Done()
		if e.Qty > stock {
			return permanentError{fmt.Errorf("order %s: %d x %s: out of stock", e.OrderID, e.Qty, e.SKU)}
		}
		log.Printf("shipping: shipped %s", e.OrderID)
		return nil
	}
	return []cqrs.GroupEventHandler{cqrs.NewGroupEventHandler(ship), upcastV1(ship)}
}

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var done sync.WaitGroup
	done.Add(6)
	//count:plumbing
	logger := watermill.NopLogger{}
	pubSub := gochannel.NewGoChannel(gochannel.Config{}, logger)
	subscriber := func() (message.Subscriber, error) { return pubSub, nil }
	router, err := message.NewRouter(message.RouterConfig{}, logger)
	if err != nil {
		log.Fatal(err)
	}
	poison, err := middleware.PoisonQueue(pubSub, deadTopic)
	if err != nil {
		log.Fatal(err)
	}
	router.AddMiddleware(poison, middleware.Retry{
		MaxRetries: 2, InitialInterval: 20 * time.Millisecond, Logger: logger,
		ShouldRetry: func(p middleware.RetryParams) bool { return !isPermanent(p.Err) },
	}.Middleware)
	commandBus, err := cqrs.NewCommandBusWithConfig(pubSub, cqrs.CommandBusConfig{
		GeneratePublishTopic: func(p cqrs.CommandBusGeneratePublishTopicParams) (string, error) {
			return commandsTopic + p.CommandName, nil
		},
		Marshaler: marshaler, Logger: logger,
	})
	if err != nil {
		log.Fatal(err)
	}
	eventBus, err := cqrs.NewEventBusWithConfig(pubSub, cqrs.EventBusConfig{
		GeneratePublishTopic: func(p cqrs.GenerateEventPublishTopicParams) (string, error) { return eventsTopic, nil },
		Marshaler:            marshaler, Logger: logger,
	})
	if err != nil {
		log.Fatal(err)
	}
	backend, err := requestreply.NewPubSubBackend[OrderView](requestreply.PubSubBackendConfig{
		Publisher: pubSub,
		SubscriberConstructor: func(requestreply.PubSubBackendSubscribeParams) (message.Subscriber, error) {
			return subscriber()
		},
		GeneratePublishTopic: func(p requestreply.PubSubBackendPublishParams) (string, error) {
			return repliesTopic + string(p.OperationID), nil
		},
		GenerateSubscribeTopic: func(p requestreply.PubSubBackendSubscribeParams) (string, error) {
			return repliesTopic + string(p.OperationID), nil
		},
		Logger: logger,
	}, requestreply.BackendPubsubJSONMarshaler[OrderView]{})
	if err != nil {
		log.Fatal(err)
	}
	commandProcessor, err := cqrs.NewCommandProcessorWithConfig(router, cqrs.CommandProcessorConfig{
		GenerateSubscribeTopic: func(p cqrs.CommandProcessorGenerateSubscribeTopicParams) (string, error) {
			return commandsTopic + p.CommandName, nil
		},
		SubscriberConstructor: func(cqrs.CommandProcessorSubscriberConstructorParams) (message.Subscriber, error) {
			return subscriber()
		},
		Marshaler: marshaler, Logger: logger,
	})
	if err != nil {
		log.Fatal(err)
	}
	eventProcessor, err := cqrs.NewEventGroupProcessorWithConfig(router, cqrs.EventGroupProcessorConfig{
		GenerateSubscribeTopic: func(cqrs.EventGroupProcessorGenerateSubscribeTopicParams) (string, error) {
			return eventsTopic, nil
		},
		SubscriberConstructor: func(cqrs.EventGroupProcessorSubscriberConstructorParams) (message.Subscriber, error) {
			return subscriber()
		},
		Marshaler: marshaler, Logger: logger,
	})
	if err != nil {
		log.Fatal(err)
	}
	err = errors.Join(
		commandProcessor.AddHandlers(ordersHandlers(eventBus, backend)...),
		eventProcessor.AddHandlersGroup("billing", billingHandlers(&done)...),
		eventProcessor.AddHandlersGroup("shipping", shippingHandlers(&done)...),
	)
	if err != nil {
		log.Fatal(err)
	}
	go func() {
		if err := router.Run(ctx); err != nil {
			log.Fatal(err)
		}
	}()
	<-router.Running()
	//count:end
	err = errors.Join(
		commandBus.Send(ctx, &PlaceOrder{OrderID: "o-1", SKU: "book", Qty: 2, Cents: 1299}),
		eventBus.Publish(ctx, &OrderPlacedV1{OrderID: "o-2", Amount: 5.5}),
		commandBus.Send(ctx, &PlaceOrder{OrderID: "o-3", SKU: "lamp", Qty: 50, Cents: 2500}),
	)
	if err != nil {
		log.Fatal(err)
	}
	done.Wait()
	reply, err := requestreply.SendWithReply[OrderView](ctx, commandBus, backend, &GetOrder{OrderID: "o-1"})
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("query: %+v", reply.HandlerResult)
	//count:plumbing
	if err := router.Close(); err != nil {
		log.Fatal(err)
	}
	//count:end
}
