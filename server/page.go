package server

import (
	_ "embed"
	"net/http"
)

// pageHTML is the audit page: one file, no external assets, so that it
// works with no network beyond the server.
//
//go:embed page/index.html
var pageHTML []byte

// page serves the audit page. It holds no data, so it needs no token; the
// page asks for the token and sends it with its API calls.
func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src * data:; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'")
	w.Write(pageHTML)
}
