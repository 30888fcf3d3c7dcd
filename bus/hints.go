package bus

import "fmt"

// knownBackends maps the URL schemes of Busway's own backends to the
// package that registers each. It is used only to word errors: Open never
// imports a backend, and any package may register any scheme.
var knownBackends = map[string]string{
	"mem":       "github.com/busway/busway/backends/membus",
	"nats":      "github.com/busway/busway/backends/natsbus",
	"jetstream": "github.com/busway/busway/backends/natsbus",
	"embedded":  "github.com/busway/busway/backends/natsbus/embedded",
}

// schemeHint says what to do about an unregistered scheme: the import for
// one of Busway's own backends, the scheme probably meant for a typo, or
// the general rule.
func schemeHint(scheme string) string {
	if pkg, ok := knownBackends[scheme]; ok {
		return fmt.Sprintf("forgotten import? _ %q registers %s://", pkg, scheme)
	}
	best, bestDist := "", 3 // suggest only close matches
	for _, s := range append(Schemes(), keys(knownBackends)...) {
		if d := editDistance(scheme, s); d < bestDist || d == bestDist && s < best {
			best, bestDist = s, d
		}
	}
	if best != "" {
		return fmt.Sprintf("did you mean %s://?", best)
	}
	return "import the backend package that registers it"
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// editDistance is the Levenshtein distance between a and b (bytes).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
