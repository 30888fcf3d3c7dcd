package cloudevents

import "time"

// Hand-written RFC 3339 formatting and parsing for the one form Encode
// writes: "2006-01-02T15:04:05[.fraction]Z" in UTC, with 1 to 9 fraction
// digits and no trailing zeros. They give the same results as
// time.RFC3339Nano with AppendFormat and time.Parse, at a fraction of the
// cost; parseTime falls back to time.Parse for every other form.

// appendTime appends t in UTC as time.RFC3339Nano does. The year must be in
// 0..9999, as Validate ensures.
func appendTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	hour, min, sec := t.Clock()
	b = append(b, byte('0'+year/1000), byte('0'+year/100%10))
	b = append2(b, year%100, '-')
	b = append2(b, int(month), '-')
	b = append2(b, day, 'T')
	b = append2(b, hour, ':')
	b = append2(b, min, ':')
	b = append2(b, sec, 0)
	if ns := t.Nanosecond(); ns != 0 {
		b = appendFraction(b, ns)
	}
	return append(b, 'Z')
}

// appendFraction appends "." and ns (1..999999999) as nine digits without
// the trailing zeros.
func appendFraction(b []byte, ns int) []byte {
	n := 9
	for ns%10 == 0 {
		ns /= 10
		n--
	}
	var frac [10]byte
	frac[0] = '.'
	for i := n; i > 0; i-- {
		frac[i] = byte('0' + ns%10)
		ns /= 10
	}
	return append(b, frac[:n+1]...)
}

// append2 appends v (0..99) as two digits, then sep unless it is 0.
func append2(b []byte, v int, sep byte) []byte {
	b = append(b, byte('0'+v/10), byte('0'+v%10))
	if sep != 0 {
		b = append(b, sep)
	}
	return b
}

// parseCanonicalTime reads a timestamp in the form appendTime writes (any
// number of fraction digits from 1 to 9, trailing zeros allowed). ok is
// false for any other form or an out-of-range field; time.Parse then
// decides.
func parseCanonicalTime(s string) (t time.Time, ok bool) {
	const base = len("2006-01-02T15:04:05Z")
	if len(s) < base || len(s) > base+10 || len(s) == base+1 || s[len(s)-1] != 'Z' ||
		s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	hour, ok4 := digits(s[11:13])
	min, ok5 := digits(s[14:16])
	sec, ok6 := digits(s[17:19])
	ns := 0
	if frac := s[19 : len(s)-1]; frac != "" {
		if frac[0] != '.' {
			return time.Time{}, false
		}
		f, okf := digits(frac[1:])
		if !okf {
			return time.Time{}, false
		}
		ns = f * pow10[10-len(frac)]
	}
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 ||
		day < 1 || day > daysIn(month, year) || hour > 23 || min > 59 || sec > 59 {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), day, hour, min, sec, ns, time.UTC), true
}

var pow10 = [10]int{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9}

// digits reads s (at most 9 bytes) as a decimal number of ASCII digits.
func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i] - '0'
		if c > 9 {
			return 0, false
		}
		n = n*10 + int(c)
	}
	return n, true
}

// daysIn returns the number of days in month of year (proleptic
// Gregorian, as package time).
func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
