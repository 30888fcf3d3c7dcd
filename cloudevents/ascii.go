package cloudevents

// Word-at-a-time checks for the common case of plain printable ASCII
// values, so validation and percent-encoding cost little per byte.

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// load64 reads 8 bytes of s little-endian (the compiler merges the loads).
func load64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// hasLess reports whether some byte of x is below n (n <= 128).
func hasLess(x, n uint64) bool { return (x-ones*n)&^x&highs != 0 }

// hasByte reports whether some byte of x equals b.
func hasByte(x, b uint64) bool { return hasLess(x^(ones*b), 1) }

// hasHigh reports whether some byte of x is 0x7F or above.
func hasHigh(x uint64) bool { return (x+ones|x)&highs != 0 }

// printablePrefix returns how many leading bytes of s, in whole 8-byte
// words, are all in U+0020-U+007E; or len(s) when all of s is, checked
// with a last word that overlaps the one before.
func printablePrefix(s string) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if x := load64(s[i:]); hasLess(x, 0x20) || hasHigh(x) {
			return i
		}
	}
	if i < len(s) && len(s) >= 8 {
		if x := load64(s[len(s)-8:]); !hasLess(x, 0x20) && !hasHigh(x) {
			return len(s)
		}
	}
	return i
}

// cleanPrefix returns how many leading bytes of s, in whole 8-byte words,
// need no percent-encoding: U+0021-U+007E except '"' and '%'.
func cleanPrefix(s string) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := load64(s[i:])
		if hasLess(x, 0x21) || hasHigh(x) || hasByte(x, '"') || hasByte(x, '%') {
			break
		}
	}
	return i
}
