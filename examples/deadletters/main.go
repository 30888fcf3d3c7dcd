package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	_ "github.com/busway/busway/backends/natsbus" // registers jetstream://
	"github.com/busway/busway/backends/natsbus/embedded"
	"github.com/busway/busway/bus"
	"github.com/busway/busway/deadletter"
)

func main() {
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "deadletters:", err)
		os.Exit(1)
	}
}

// run parses the global flags, opens the bus and the store, and runs each
// command ("--" separates them).
func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("deadletters", flag.ContinueOnError)
	url := fs.String("url", os.Getenv("BUSWAY_URL"), "jetstream:// URL (default: an embedded server with the quickstart's dead letter)")
	subj := fs.String("subject", "dead.orders", "dead-letter subject")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *url == "" {
		srv, err := embedded.Start(embedded.Options{})
		if err != nil {
			return err
		}
		defer srv.Stop()
		*url = "jetstream://" + srv.Addr() + "?stream=QUICKSTART&subjects=orders.>,dead.>"
		if err := seedQuickstartDeadLetter(ctx, *url, *subj); err != nil {
			return fmt.Errorf("producing the quickstart's dead letter: %w", err)
		}
	}
	b, err := bus.Open(ctx, *url, bus.Source("/examples/deadletters"))
	if err != nil {
		return err
	}
	defer b.Close(context.Background())
	st, err := deadletter.Open(ctx, b, *subj)
	if err != nil {
		return err
	}
	for _, cmd := range split(fs.Args()) {
		if err := command(ctx, st, cmd, out); err != nil {
			return err
		}
	}
	return nil
}

// split cuts args at "--"; no args is "list".
func split(args []string) [][]string {
	if len(args) == 0 {
		return [][]string{{"list"}}
	}
	var cmds [][]string
	cur := []string{}
	for _, a := range args {
		if a == "--" {
			cmds, cur = append(cmds, cur), []string{}
			continue
		}
		cur = append(cur, a)
	}
	return append(cmds, cur)
}

// command runs one command.
func command(ctx context.Context, st *deadletter.Store, args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New("empty command")
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	var f deadletter.Filter
	fs.StringVar(&f.Group, "group", "", "only this failing group")
	fs.StringVar(&f.Subject, "on", "", "only this original subject (pattern)")
	fs.StringVar(&f.Type, "type", "", "only this event type")
	fs.StringVar(&f.Kind, "kind", "", "only this failure kind")
	since := fs.Duration("since", 0, "only dead-lettered within this long")
	replayed := fs.Bool("replayed", false, "purge: only those already replayed")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *since > 0 {
		f.Since = time.Now().Add(-*since)
	}
	switch args[0] {
	case "list":
		ls, err := st.List(ctx, f)
		if err != nil {
			return err
		}
		printList(out, ls)
	case "show":
		for _, id := range fs.Args() {
			l, err := st.Get(ctx, id)
			if err != nil {
				return err
			}
			printLetter(out, l)
		}
	case "replay":
		for _, id := range fs.Args() {
			if err := replay(ctx, st, id, out); err != nil {
				return err
			}
		}
	case "purge":
		return purge(ctx, st, f, *replayed, fs.Args(), out)
	default:
		return fmt.Errorf("unknown command %q: want list, show, replay or purge", args[0])
	}
	return nil
}

// purge removes the named dead letters, or those that pass f (and were
// replayed, with -replayed).
func purge(ctx context.Context, st *deadletter.Store, f deadletter.Filter, replayed bool, ids []string, out io.Writer) error {
	var n int
	var err error
	if len(ids) > 0 {
		n, err = st.Purge(ctx, ids...)
	} else {
		n, err = st.PurgeMatching(ctx, f, replayed)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "purged %d\n", n)
	return nil
}

func printLetter(out io.Writer, l *deadletter.Letter) {
	md := l.Metadata
	fmt.Fprintf(out, "dead letter %s (replayed: %v)\n", l.ID, l.Replayed)
	fmt.Fprintf(out, "  failed:    %s, group %q, route %q, kind %s, %d attempt(s), %d replay(s)\n",
		md.Subject, md.Group, md.Route, md.Kind, md.Attempts, md.Replays)
	fmt.Fprintf(out, "  reason:    %s\n", md.Reason)
	fmt.Fprintf(out, "  when:      first failure %s, dead-lettered %s\n", md.FirstFailure.Format(time.RFC3339), md.Time.Format(time.RFC3339))
	if md.Stream != "" {
		fmt.Fprintf(out, "  original:  stream %s sequence %d\n", md.Stream, md.Sequence)
	}
	if l.DecodeErr != nil {
		fmt.Fprintf(out, "  malformed: %v\n  bytes:     %q\n", l.DecodeErr, l.Data)
		return
	}
	ev := l.Event
	fmt.Fprintf(out, "  event:     id %s, type %s, source %s, time %s\n", ev.ID, ev.Type, ev.Source, ev.Time.Format(time.RFC3339))
	fmt.Fprintf(out, "  data:      %s\n", strings.TrimSpace(string(ev.Data)))
}

// replay replays one dead letter; one already replayed is left alone.
func replay(ctx context.Context, st *deadletter.Store, id string, out io.Writer) error {
	l, err := st.Get(ctx, id)
	if err != nil {
		return err
	}
	if l.Replayed {
		fmt.Fprintf(out, "%s was already replayed\n", id)
		return nil
	}
	if err := st.Replay(ctx, id); err != nil {
		return err
	}
	fmt.Fprintf(out, "replayed %s to group %q\n", id, l.Metadata.Group)
	return nil
}
