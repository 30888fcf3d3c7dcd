package natsbus

// DeliveryInfo exposes deliveryInfo to the external tests, which compare
// it with nats.go's Metadata on messages of a real server.
var DeliveryInfo = deliveryInfo
