//go:build race

package ivf

// raceEnabled reports whether the race detector is on.
const raceEnabled = true
