package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"sync"
	"time"

	_ "github.com/busway/busway/backends/membus"           // registers mem://
	_ "github.com/busway/busway/backends/natsbus"          // registers nats:// and jetstream://
	_ "github.com/busway/busway/backends/natsbus/embedded" // registers embedded://, the default
	"github.com/busway/busway/bus"
)

// Task is one unit of work.
type Task struct {
	N int `json:"n"`
}

const (
	taskSubject = "tasks.square"
	taskType    = "com.example.task.square.v1"
	group       = "squarers"
)

func main() {
	url := flag.String("url", os.Getenv("BUSWAY_URL"), "bus URL (default: an in-process NATS server)")
	workers := flag.Int("workers", 3, "workers in the group")
	tasks := flag.Int("tasks", 12, "tasks to publish")
	verbose := flag.Bool("v", false, "also print which worker took which task (varies run to run)")
	flag.Parse()
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := run(ctx, *url, *workers, *tasks)
	if err != nil {
		fmt.Fprintln(os.Stderr, "workers:", err)
		os.Exit(1)
	}
	res.print(os.Stdout, *verbose)
}

// result records, per task, which workers handled it.
type result struct {
	mu      sync.Mutex
	workers int
	by      map[int][]int // task -> workers that handled it
	squares map[int]int
}

func run(ctx context.Context, url string, workers, tasks int) (*result, error) {
	b, err := bus.Open(ctx, url, bus.Source("/examples/workers"))
	if err != nil {
		return nil, err
	}
	defer b.Close(context.Background())

	res := &result{workers: workers, by: map[int][]int{}, squares: map[int]int{}}
	var wg sync.WaitGroup
	wg.Add(tasks)
	r := bus.NewRouter(b)
	for w := 1; w <= workers; w++ {
		r.Handle(taskSubject, bus.JSON(func(ctx context.Context, m *bus.Message, t Task) error {
			res.record(t.N, w)
			wg.Done()
			return nil
		}), bus.Group(group))
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- r.Run(runCtx) }()
	select {
	case <-r.Running():
	case err := <-done:
		return nil, err
	}
	for n := 1; n <= tasks; n++ {
		m, err := bus.NewJSON(taskSubject, taskType, Task{N: n})
		if err != nil {
			return nil, err
		}
		if err := b.Publish(ctx, m); err != nil {
			return nil, err
		}
	}
	if err := waitGroup(ctx, &wg); err != nil {
		return nil, err
	}
	stop()
	return res, <-done
}

func (r *result) record(task, worker int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.by[task] = append(r.by[task], worker)
	r.squares[task] = task * task
}

// print writes the deterministic summary; verbose adds the per-worker split.
func (r *result) print(out io.Writer, verbose bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	tasks := make([]int, 0, len(r.by))
	perWorker := map[int]int{}
	once := 0
	for t, ws := range r.by {
		tasks = append(tasks, t)
		if len(ws) == 1 {
			once++
		}
		for _, w := range ws {
			perWorker[w]++
		}
	}
	sort.Ints(tasks)
	for _, t := range tasks {
		fmt.Fprintf(out, "task %d: %d squared is %d (handled %d time(s))\n", t, t, r.squares[t], len(r.by[t]))
	}
	fmt.Fprintf(out, "%d tasks, %d handled exactly once, by a group of %d workers (%q)\n", len(tasks), once, r.workers, group)
	if verbose {
		for w := 1; w <= r.workers; w++ {
			fmt.Fprintf(out, "worker %d took %d task(s)\n", w, perWorker[w])
		}
	}
}

// waitGroup waits for wg or for ctx to end.
func waitGroup(ctx context.Context, wg *sync.WaitGroup) error {
	c := make(chan struct{})
	go func() { wg.Wait(); close(c) }()
	select {
	case <-c:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for the tasks: %w", ctx.Err())
	}
}

// count is how many tasks worker w handled.
func (r *result) count(w int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, ws := range r.by {
		for _, x := range ws {
			if x == w {
				n++
			}
		}
	}
	return n
}
