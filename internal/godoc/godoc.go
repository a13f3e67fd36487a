// Package godoc turns a package's doc.go comment into plain text, so that
// the command-line tool can print the same manual that go doc shows.
package godoc

import "strings"

// Text returns the leading // comment of a Go source file as text: the
// comment markers removed, code blocks (//\t) indented by a tab.
func Text(src string) string {
	var b strings.Builder
	for _, line := range strings.Split(src, "\n") {
		if !strings.HasPrefix(line, "//") {
			if strings.HasPrefix(line, "package ") {
				break
			}
			continue
		}
		line = strings.TrimPrefix(line, "//")
		line = strings.TrimPrefix(line, " ")
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}

// Section returns the part of text under the heading "# title", up to the
// next heading, without the heading; "" if there is none.
func Section(text, title string) string {
	_, rest, ok := strings.Cut(text, "# "+title+"\n")
	if !ok {
		return ""
	}
	if i := strings.Index(rest, "\n# "); i >= 0 {
		rest = rest[:i+1]
	}
	return strings.TrimLeft(rest, "\n")
}
