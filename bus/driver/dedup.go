package driver

import (
	"crypto/sha256"
	"encoding/hex"
)

// DedupID hashes parts into a deduplication id: the first 16 bytes, in
// hex, of SHA-256 over each part followed by a NUL byte. For an event the
// bus uses DedupID(source, id) as Message.ID, since CloudEvents defines
// the pair (not the id alone) as unique: two producers may both use id
// "1". A producer outside Busway that wants its retries deduplicated with
// Busway's (JetStream's Nats-Msg-Id) computes the same.
func DedupID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:16])
}
