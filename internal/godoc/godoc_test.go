package godoc

import "testing"

func TestText(t *testing.T) {
	src := "// Package x does y.\n//\n// # Use\n//\n//\tx.Do()\n//\n// # More\n// text\npackage x\n// not this\n"
	got := Text(src)
	want := "Package x does y.\n\n# Use\n\n\tx.Do()\n\n# More\ntext\n"
	if got != want {
		t.Errorf("Text = %q, want %q", got, want)
	}
	if s := Section(got, "Use"); s != "\tx.Do()\n\n" {
		t.Errorf("Section(Use) = %q", s)
	}
	if s := Section(got, "More"); s != "text\n" {
		t.Errorf("Section(More) = %q", s)
	}
	if Section(got, "None") != "" {
		t.Error("Section of a missing heading")
	}
}
