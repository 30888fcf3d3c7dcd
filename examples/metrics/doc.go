// Command metrics shows Busway's observability: OpenTelemetry metrics
// exported in Prometheus format on /metrics, readiness and liveness on
// /healthz/ready and /healthz/live, and connection events logged.
//
//	go run ./examples/metrics                 # embedded NATS server, serves on 127.0.0.1:9464
//	go run ./examples/metrics -n 10           # exit after 10 messages were handled
//	curl -s 127.0.0.1:9464/metrics | grep busway_
//
// It publishes an order event every -every (default 1s); one in five
// fails for good and is dead-lettered, so every outcome shows up in
// busway_messages_consumed_total.
package main
