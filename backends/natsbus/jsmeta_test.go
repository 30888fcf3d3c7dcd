package natsbus

import "testing"

func TestParseAckReply(t *testing.T) {
	cases := []struct {
		reply          string
		delivered, seq uint64
		ok             bool
	}{
		{"$JS.ACK.ORDERS.grp.3.1042.77.1700000000000000000.5", 3, 1042, true},
		{"$JS.ACK._.HASH.ORDERS.grp.1.7.7.1700000000000000000.0", 1, 7, true},
		{"$JS.ACK.hub.HASH.ORDERS.grp.2.18446744073709551.9.1.0.tok", 2, 18446744073709551, true},
		{"$JS.ACK.hub.HASH.ORDERS.grp.2.9.9.1.0.tok.more", 2, 9, true},
		{"$JS.ACK.ORDERS.grp.3.1042.77.1700000000000000000", 0, 0, false},       // 6 tokens
		{"$JS.ACK.hub.ORDERS.grp.3.1042.77.1700000000000000000.5", 0, 0, false}, // 8 tokens
		{"$JS.ACK.ORDERS.grp.x.1042.77.1.5", 0, 0, false},
		{"$JS.ACK.ORDERS.grp.3..77.1.5", 0, 0, false},
		{"$JS.ACK.ORDERS.grp.3.-1.77.1.5", 0, 0, false},
		{"$JS.ACK.ORDERS.grp.3.99999999999999999999.77.1.5", 0, 0, false}, // 20 digits
		{"$JS.NAK.ORDERS.grp.3.1042.77.1.5", 0, 0, false},
		{"_INBOX.abc", 0, 0, false},
		{"", 0, 0, false},
	}
	for _, c := range cases {
		d, s, ok := parseAckReply(c.reply)
		if ok != c.ok || (ok && (d != c.delivered || s != c.seq)) {
			t.Errorf("parseAckReply(%q) = %d, %d, %v; want %d, %d, %v", c.reply, d, s, ok, c.delivered, c.seq, c.ok)
		}
	}
}
