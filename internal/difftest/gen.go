package difftest

import (
	"math/rand/v2"
	"strings"
)

// GenConfig shapes generated sequences.
type GenConfig struct {
	// MaxOps is the longest sequence generated; default 20.
	MaxOps int
	// MaxPayload is the backends' limit on headers plus body; bodies are
	// sometimes generated just under and over it. Default 4096.
	MaxPayload int
}

func (c GenConfig) withDefaults() GenConfig {
	if c.MaxOps <= 0 {
		c.MaxOps = 20
	}
	if c.MaxPayload <= 0 {
		c.MaxPayload = 4096
	}
	return c
}

// Generate returns the sequence for seed: the same seed gives the same
// sequence.
func Generate(seed uint64, cfg GenConfig) Sequence {
	cfg = cfg.withDefaults()
	g := &gen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), cfg: cfg}
	g.groups = map[string]Profile{}
	for _, name := range groupNames {
		g.groups[name] = g.profile()
	}
	n := 1 + g.r.IntN(cfg.MaxOps)
	seq := Sequence{Seed: seed}
	for i := range n {
		seq.Ops = append(seq.Ops, g.op(i+1))
	}
	return seq
}

type gen struct {
	r      *rand.Rand
	cfg    GenConfig
	groups map[string]Profile
	subs   []int // IDs of Subscribe ops so far
}

var groupNames = []string{"g1", "g2", "g3"}

func (g *gen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }

// chance reports true with probability p.
func (g *gen) chance(p float64) bool { return g.r.Float64() < p }

func (g *gen) op(id int) Op {
	o := Op{ID: id, Client: g.r.IntN(2)}
	w := g.r.IntN(100)
	if len(g.subs) == 0 && g.chance(0.7) {
		w = 0 // start with a subscription, mostly
	}
	switch {
	case w < 30:
		o.Kind = Subscribe
		o.Subject = g.pattern()
		o.Group, o.Profile = g.group()
		g.subs = append(g.subs, id)
	case w < 40 && len(g.subs) > 0:
		o.Kind = Drain
		o.Target = g.subs[g.r.IntN(len(g.subs))]
	case w < 62:
		o.Kind = Request
		o.Subject = g.subject()
		o.Header, o.Body = g.header(), g.body()
	default:
		o.Kind = Publish
		o.Subject = g.subject()
		o.Header, o.Body = g.header(), g.body()
	}
	return o
}

// literal returns a valid subject from a small alphabet, so that patterns
// and subjects overlap often.
func (g *gen) literal() string {
	n := 1 + g.r.IntN(2)
	if g.chance(0.2) {
		n = 3
	}
	toks := make([]string, n)
	for i := range toks {
		toks[i] = g.pick("a", "b")
	}
	if g.chance(0.1) {
		toks[0] = "_INBOX"
	}
	return strings.Join(toks, ".")
}

// long returns a subject of about n bytes.
func long(n int) string { return "a." + strings.Repeat("x", n-2) }

func (g *gen) subject() string {
	switch w := g.r.IntN(100); {
	case w < 3:
		return g.pick("", "a..b", "a b", "a.*", "a.>", "a.\x01")
	case w < 6:
		return long(g.pick3(1024, 1025, 2000, 4100))
	case w < 10:
		return g.pick("dl", "dl.a", "q.none")
	}
	return g.literal()
}

func (g *gen) pick3(xs ...int) int { return xs[g.r.IntN(len(xs))] }

func (g *gen) pattern() string {
	switch w := g.r.IntN(100); {
	case w < 3:
		return g.pick("", "a.>.b", "a..*", "a *")
	case w < 5:
		return long(g.pick3(1024, 1025, 4100))
	case w < 14:
		return g.pick("_INBOX.>", "_INBOX.*", "_INBOX.*.*", ">", "*.*.*", "*", "*.>")
	case w < 19:
		return g.pick("dl", "dl.>", "dl.*")
	}
	toks := strings.Split(g.literal(), ".")
	for i := range toks {
		if g.chance(0.25) {
			toks[i] = "*"
		}
	}
	if g.chance(0.2) {
		toks[len(toks)-1] = ">"
	}
	return strings.Join(toks, ".")
}

// group returns a group name (or "") and the profile to use.
func (g *gen) group() (string, Profile) {
	switch w := g.r.IntN(100); {
	case w < 3:
		return g.pick("bad group", strings.Repeat("q", 300), "g\x01", "g.*.>"), g.groups["g1"]
	case w < 40:
		name := g.pick(groupNames...)
		return name, g.groups[name]
	}
	return "", g.profile()
}

func (g *gen) profile() Profile {
	p := Profile{EmptyReply: g.chance(0.3), Echo: g.chance(0.4)}
	switch w := g.r.IntN(100); {
	case w < 15:
		p.Outcome = Fail
	case w < 25:
		p.Outcome = Permanent
	}
	if g.chance(0.5) {
		p.DeadLetter = g.pick("dl", "dl.a", "dl.b", "a.b")
	}
	return p
}

// goodHeaders are headers a message may carry: ordinary ones and values
// NATS rewrites; badHeaders have names that are invalid or that the server
// or nats.go interpret.
var goodHeaders = []map[string][]string{
	{"X-A": {"1"}},
	{"X-Multi": {"1", "2"}},
	{"X-Space": {"  padded  "}},
	{"X-Crlf": {"a\r\nb"}},
	{"x-lower": {"v"}},
	{"X-Empty": {""}},
	{"Busway-Error": {"boom"}},
	{"ce-id": {"override"}},
}

var badHeaders = []map[string][]string{
	{"Bad Name": {"v"}},
	{"Bad:Name": {"v"}},
	{"Status": {"503"}},
	{"Description": {"No Responders"}},
	{"Nats-Msg-Id": {"dup"}},
	{"Nats-TTL": {"1s"}},
	{"nats-rollup": {"all"}},
}

func (g *gen) header() map[string][]string {
	if g.chance(0.6) {
		return nil
	}
	h := map[string][]string{}
	for range 1 + g.r.IntN(2) {
		choices := goodHeaders
		if g.chance(0.2) {
			choices = badHeaders
		}
		for k, v := range choices[g.r.IntN(len(choices))] {
			h[k] = v
		}
	}
	return h
}

func (g *gen) body() int {
	switch w := g.r.IntN(100); {
	case w < 10:
		return -1
	case w < 15:
		return 0
	case w < 25:
		// Around the limit: the CloudEvents headers take a few hundred
		// bytes, so some of these fit and some do not.
		return g.cfg.MaxPayload - 420 + g.r.IntN(440)
	}
	return 8 + g.r.IntN(24)
}
