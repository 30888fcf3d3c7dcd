package main

// scenario is one row of the report: a bus benchmark beside its reference.
type scenario struct {
	label  string  // what is measured
	bus    string  // benchmark name (package-relative, without -GOMAXPROCS)
	ref    string  // reference benchmark name; "" for an absolute target
	refTag string  // what the reference is
	unit   string  // the metric compared, e.g. "msgs/s" or "p50-ns"
	target float64 // the target ratio (or absolute value with ref ""); 0 = reported only
}

// higherIsBetter reports whether a larger value of the scenario's metric
// is better (throughput) or worse (latency, allocations).
func (s scenario) higherIsBetter() bool { return s.unit == "msgs/s" }

// scenarios are the rows of the report, in order. The ratio is always
// "how the bus does relative to the reference": bus/ref for throughput,
// ref/bus for latency, so 1.0 is parity and more is better.
var scenarios = []scenario{
	{"core publish -> handler, 256 B", "BenchmarkCoreSize/256B/bus", "BenchmarkCoreSize/256B/raw-same-bytes", "raw nats.go, same bytes", "msgs/s", 0.85},
	{"core publish -> handler, 16 B", "BenchmarkCoreSize/16B/bus", "BenchmarkCoreSize/16B/raw-same-bytes", "raw nats.go, same bytes", "msgs/s", 0},
	{"core publish -> handler, 4 KiB", "BenchmarkCoreSize/4096B/bus", "BenchmarkCoreSize/4096B/raw-same-bytes", "raw nats.go, same bytes", "msgs/s", 0},
	{"core publish -> handler, 256 B", "BenchmarkCore/bus", "BenchmarkCore/raw-headerless", "raw nats.go, no headers", "msgs/s", 0},
	{"core publish -> handler, 256 B", "BenchmarkCore/bus", "BenchmarkCore/watermill-nats", "watermill-nats", "msgs/s", 0},
	{"core, Concurrency 4", "BenchmarkCoreConcurrency/c4/bus", "BenchmarkCoreConcurrency/c4/raw-queue", "raw nats.go, 4 queue subscribers", "msgs/s", 0},
	{"core request/reply p50", "BenchmarkCoreRequest/bus", "BenchmarkCoreRequest/raw-same-bytes", "raw nats.go Request", "p50-ns", 0.9},
	{"core request/reply p99", "BenchmarkCoreRequest/bus", "BenchmarkCoreRequest/raw-same-bytes", "raw nats.go Request", "p99-ns", 0},
	{"core one-way at 2,000 msgs/s p50", "BenchmarkCoreFixedRate/bus", "BenchmarkCoreFixedRate/raw-same-bytes", "raw nats.go", "p50-ns", 0.9},
	{"core one-way at 2,000 msgs/s p99", "BenchmarkCoreFixedRate/bus", "BenchmarkCoreFixedRate/raw-same-bytes", "raw nats.go", "p99-ns", 0},
	{"structured mode, core", "BenchmarkCoreStructured/structured", "BenchmarkCoreStructured/binary", "binary mode", "msgs/s", 0.5},
	{"JetStream batch publish", "BenchmarkJetStreamPublish/bus-batch", "BenchmarkJetStreamPublish/raw-async", "raw PublishMsgAsync + wait", "msgs/s", 0.9},
	{"JetStream sync publish", "BenchmarkJetStreamPublish/bus-sync", "BenchmarkJetStreamPublish/raw-sync", "raw PublishMsg", "msgs/s", 0.9},
	{"JetStream consume -> ack", "BenchmarkJetStreamConsume/bus", "BenchmarkJetStreamConsume/raw", "raw Consume + Ack", "msgs/s", 0.9},
	{"mem publish -> handler, whole bus", "BenchmarkMemPublishToHandler", "BenchmarkWatermillGoChannel", "Watermill gochannel", "msgs/s", 0},
	{"mem publish -> handler, whole bus", "BenchmarkMemPublishToHandler", "", "absolute", "msgs/s", 1e6},
	{"mem publish -> handler, whole bus", "BenchmarkMemPublishToHandler", "", "absolute", "allocs/op", 4},
}
