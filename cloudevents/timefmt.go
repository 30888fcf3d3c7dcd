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
	sec := t.Unix()
	days, sod := sec/secondsPerDay, int(sec%secondsPerDay)
	if sod < 0 {
		days, sod = days-1, sod+secondsPerDay
	}
	year, month, day := civil(days)
	b = append2(b, year/100, 0)
	b = append2(b, year%100, '-')
	b = append2(b, month, '-')
	b = append2(b, day, 'T')
	b = append2(b, sod/3600, ':')
	b = append2(b, sod/60%60, ':')
	b = append2(b, sod%60, 0)
	if ns := t.Nanosecond(); ns != 0 {
		b = appendFraction(b, ns)
	}
	return append(b, 'Z')
}

// appendFraction appends "." and ns (1..999999999) as nine digits without
// the trailing zeros.
func appendFraction(b []byte, ns int) []byte {
	var frac [10]byte
	frac[0] = '.'
	for i := 8; i > 0; i -= 2 {
		frac[i], frac[i+1] = digitPairs[ns%100*2], digitPairs[ns%100*2+1]
		ns /= 100
	}
	frac[1] = byte('0' + ns)
	n := len(frac)
	for frac[n-1] == '0' {
		n--
	}
	return append(b, frac[:n]...)
}

const digitPairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"4041424344454647484950515253545556575859606162636465666768697071727374757677787980" +
	"81828384858687888990919293949596979899"

// append2 appends v (0..99) as two digits, then sep unless it is 0.
func append2(b []byte, v int, sep byte) []byte {
	b = append(b, digitPairs[v*2], digitPairs[v*2+1])
	if sep != 0 {
		b = append(b, sep)
	}
	return b
}

const (
	secondsPerDay = 86400
	// Days from 0000-03-01 to 1970-01-01, and in a 400-year era. Dates
	// are shifted by one era so that the arithmetic below stays on
	// non-negative numbers for every year from 0.
	daysTo1970 = 719468
	daysPerEra = 146097
)

// civil returns the proleptic Gregorian date of days since 1970-01-01
// (H. Hinnant's civil_from_days), for years 0..9999.
func civil(days int64) (year, month, day int) {
	z := int(days) + daysTo1970 + daysPerEra
	era := z / daysPerEra
	doe := z - era*daysPerEra
	yoe := (doe - doe/1460 + doe/36524 - doe/(daysPerEra-1)) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	day = doy - (153*mp+2)/5 + 1
	month = mp + 3
	if month > 12 {
		month -= 12
	}
	year = yoe + (era-1)*400
	if month <= 2 {
		year++
	}
	return year, month, day
}

// daysSince1970 is the inverse of civil (H. Hinnant's days_from_civil).
func daysSince1970(year, month, day int) int64 {
	if month <= 2 {
		year--
	}
	year += 400 // one era, as in civil
	era := year / 400
	yoe := year - era*400
	mp := month - 3
	if mp < 0 {
		mp += 12
	}
	doy := (153*mp+2)/5 + day - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era*daysPerEra + doe - daysTo1970 - daysPerEra)
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
	unix := daysSince1970(year, month, day)*secondsPerDay + int64(hour*3600+min*60+sec)
	return time.Unix(unix, int64(ns)).UTC(), true
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
