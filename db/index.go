package db

// checkIndex verifies the vector index; the store has none yet.
func (d *DB) checkIndex(v *view, add func(string, string, ...any)) error { return nil }
