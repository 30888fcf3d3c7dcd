package cqrs

import (
	"context"
	"fmt"

	"github.com/busway/busway/bus"
)

// ReplayOfExtension names the CloudEvents extension a replayed message
// carries: the event id of the dead-lettered original.
const ReplayOfExtension = "replayof"

// Replay republishes a dead-lettered message (as received from the
// dead-letter subject) to the subject it originally arrived on (from
// bus.DeadLetterSubjectHeader), with its CloudEvents attributes, data and
// headers, minus the dead-letter headers. Use it after upgrading the
// consumer that could not read it.
//
// The replay gets a new event id, with the original one in the "replayof"
// extension: on JetStream the event id is the publish dedup id, so
// republishing the same id within the stream's duplicate window (2 minutes
// by default) would be acknowledged and silently dropped by the server.
func Replay(ctx context.Context, p bus.Publisher, dead *bus.Message) error {
	subj := dead.Header.Get(bus.DeadLetterSubjectHeader)
	if subj == "" {
		return fmt.Errorf("cqrs: replay %s: no %s header: not a dead-lettered message", dead.Event.ID, bus.DeadLetterSubjectHeader)
	}
	m := &bus.Message{Subject: subj, Event: dead.Event, Header: dead.Header.Clone()}
	for _, h := range []string{bus.DeadLetterReasonHeader, bus.DeadLetterSubjectHeader, bus.DeadLetterAttemptsHeader,
		bus.DeadLetterPermanentHeader, bus.DeadLetterTimeHeader} {
		m.Header.Del(h)
	}
	ext := make(map[string]string, len(dead.Event.Extensions)+1)
	for k, v := range dead.Event.Extensions {
		ext[k] = v
	}
	ext[ReplayOfExtension] = dead.Event.ID
	m.Event.Extensions = ext
	m.Event.ID = ""
	return p.Publish(ctx, m)
}
