package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/busway/busway/deadletter"
)

// printList prints one line per dead letter.
func printList(out io.Writer, ls []*deadletter.Letter) {
	if len(ls) == 0 {
		fmt.Fprintln(out, "no dead letters")
		return
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tDEAD-LETTERED\tSUBJECT\tGROUP\tROUTE\tKIND\tREPLAYS\tREPLAYED\tTYPE\tREASON")
	for _, l := range ls {
		md := l.Metadata
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%v\t%s\t%s\n", l.ID, md.Time.Format(time.RFC3339), md.Subject,
			md.Group, md.Route, md.Kind, md.Replays, l.Replayed, l.Event.Type, md.Reason)
	}
	_ = w.Flush()
}
