package bus

import (
	"crypto/rand"

	"github.com/busway/busway/bus/driver"
)

// copiesOnPublish reports whether conn copies what Publish is given, so
// that the bus can reuse its storage (see driver.PublishCopier).
func copiesOnPublish(conn driver.Conn) bool {
	c, ok := conn.(driver.PublishCopier)
	return ok && c.PublishCopies()
}

// usesIDs reports whether conn deduplicates by driver.Message.ID, so that
// the bus computes it only for such backends.
func usesIDs(conn driver.Conn) bool {
	d, ok := conn.(driver.Deduplicator)
	return ok && d.Deduplicates()
}

// deadLetterKey identifies where a subscription's dead letters come from,
// for their dedup ids: a second copy of the same failure from the same
// group (say, its ack was lost and a member failed it again) is dropped,
// while the copies from two groups that both failed an event are kept.
// A plain subscription gets a random key: its messages reach no one else.
func deadLetterKey(group, pattern string) string {
	if group != "" {
		return "group\x00" + group + "\x00" + pattern
	}
	return "sub\x00" + rand.Text()
}
