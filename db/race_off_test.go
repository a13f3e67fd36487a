//go:build !race

package db

// raceEnabled reports whether the race detector is on.
const raceEnabled = false
