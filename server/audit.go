package server

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/laiondb/laiondb/audit"
	"github.com/laiondb/laiondb/query"
)

// auditRequest is the body of POST /api/audit: the essay's audit of a
// list of terms (package audit).
type auditRequest struct {
	Terms  []string `json:"terms"`
	Index  string   `json:"index"`
	K      int      `json:"k"`
	Filter string   `json:"filter"`
}

// maxTerms bounds the terms of one audit: each costs a few searches.
const maxTerms = 100

// apiAudit runs the audit of the request's terms (the essay's twelve when
// none) and answers its report as JSON ('laiondb audit --format json').
// It carries no row text.
func (s *Server) apiAudit(w http.ResponseWriter, r *http.Request) {
	var req auditRequest
	if !decode(w, r, &req) {
		return
	}
	var terms []string
	for _, t := range req.Terms {
		if t = strings.TrimSpace(t); t != "" {
			terms = append(terms, t)
		}
	}
	if len(terms) > maxTerms {
		httpError(w, http.StatusBadRequest, fmt.Sprintf("%d terms: at most %d an audit", len(terms), maxTerms))
		return
	}
	if req.K < 0 || req.K > s.opts.MaxResults {
		httpError(w, http.StatusBadRequest, fmt.Sprintf(`"k" %d: want 1 to %d (laiondb serve --max-results; 0 means 100)`, req.K, s.opts.MaxResults))
		return
	}
	if req.Filter != "" {
		p, err := query.Parse("all where " + req.Filter)
		if err != nil {
			httpError(w, http.StatusBadRequest, "filter: "+err.Error())
			return
		}
		if err := s.checkFiles(p); err != nil {
			httpError(w, http.StatusBadRequest, "filter: "+err.Error())
			return
		}
	}
	h, ctx, end, ok := s.begin(w, r, req.Index)
	if !ok {
		return
	}
	defer end()
	ctx, done, err := s.admit(ctx, true)
	if err != nil {
		s.queryError(w, r, err)
		return
	}
	defer done()
	rep, err := audit.Run(ctx, h.st, &audit.Options{Terms: terms, K: req.K, Filter: req.Filter, Command: "POST /api/audit"})
	if err != nil {
		s.queryError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	rep.WriteJSON(w)
}
