//go:build !race

package bus_test

// raceEnabled: see race_on_test.go.
const raceEnabled = false
