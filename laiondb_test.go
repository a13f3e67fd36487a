package laiondb

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/laiondb/laiondb/db"
	"github.com/laiondb/laiondb/engine"
)

func TestHintAndLexicons(t *testing.T) {
	err := Hint(errors.Join(db.ErrNoModel))
	if !errors.Is(err, db.ErrNoModel) || !strings.Contains(err.Error(), "--model DIR") {
		t.Errorf("Hint(ErrNoModel) = %v", err)
	}
	other := errors.New("x")
	if Hint(other) != other || Hint(nil) != nil {
		t.Errorf("Hint changed an error it knows nothing of")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "slurs.txt")
	os.WriteFile(path, []byte("a\n b \n"), 0o644)
	lex, err := Lexicons([]string{path, "mine=" + path})
	if err != nil || len(lex) != 2 || len(lex["slurs"]) != 2 || lex["mine"][1] != " b " {
		t.Errorf("Lexicons = %q, %v", lex, err)
	}
	if _, err := Lexicons([]string{filepath.Join(dir, "nope.txt")}); err == nil {
		t.Error("a missing lexicon file is not an error")
	}
}

// TestOpen: a read-only open of a missing store says how to make one; a
// text target without a model says how to give one, and the model is not
// loaded by queries that need none.
func TestOpen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	if _, err := Open(dir, &Options{ReadOnly: true}); err == nil || !strings.Contains(err.Error(), "laiondb ingest --store") {
		t.Errorf("missing store: %v", err)
	}
	t.Setenv("LAIONDB_MODEL", "")
	s, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.Query(context.Background(), "knn('beautiful', 3)", nil)
	if !errors.Is(err, db.ErrNoModel) || !strings.Contains(err.Error(), "--model DIR or $LAIONDB_MODEL") {
		t.Errorf("text target without a model: %v", err)
	}
	_, err = s.Query(context.Background(), "all where text lexicon slurs", nil)
	if !errors.Is(err, engine.ErrUnknownLexicon) || !strings.Contains(err.Error(), "--lexicon NAME=FILE") || strings.Contains(err.Error(), "Options.") {
		t.Errorf("unknown lexicon: %v", err)
	}
	s2, err := Open(filepath.Join(t.TempDir(), "s2"), &Options{Model: "/no/such/model"})
	if err != nil {
		t.Fatalf("a model folder is opened only when a query needs it: %v", err)
	}
	defer s2.Close()
	if _, err := s2.Query(context.Background(), "all", nil); err != nil {
		t.Errorf("a query without targets loaded the model: %v", err)
	}
}
