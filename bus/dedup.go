package bus

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"

	"github.com/busway/busway/bus/driver"
)

// DedupID is the deduplication id the bus gives an event on backends that
// deduplicate (JetStream: the Nats-Msg-Id header): the first 16 bytes, in
// hex, of SHA-256 over source, NUL, id, NUL. It covers the source as well
// as the id because CloudEvents defines the pair as unique: two producers
// may both use id "1". A producer outside Busway that wants its retries
// deduplicated with Busway's computes the same.
func DedupID(source, id string) string { return dedupID(source, id) }

// dedupID hashes parts as DedupID describes.
func dedupID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:16])
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
