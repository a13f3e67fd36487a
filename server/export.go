package server

import (
	"bytes"
	"fmt"
	"net/http"

	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/export"
	"github.com/laiondb/laiondb/query"
)

// exportRequest is the body of POST /api/export.
type exportRequest struct {
	Query   string   `json:"query"`
	Index   string   `json:"index"`
	Format  string   `json:"format"`
	Shape   string   `json:"shape"`
	Columns []string `json:"columns"`
	Exact   bool     `json:"exact"`
}

// apiExport answers the rows a query selects as a file, as 'laiondb
// export' writes it (package export): parquet, jsonl, csv or json, in the
// rows, img2dataset or clipsubset shape. At most Options.MaxExport rows;
// the file is built before the first byte is sent, so that an error is a
// status, not a cut file.
func (s *Server) apiExport(w http.ResponseWriter, r *http.Request) {
	var req exportRequest
	if !decode(w, r, &req) {
		return
	}
	o := &export.Options{Shape: export.Shape(req.Shape), Columns: req.Columns}
	if req.Format != "" {
		f, err := export.ParseFormat(req.Format)
		if err != nil {
			httpError(w, http.StatusBadRequest, err.Error())
			return
		}
		o.Format = f
	}
	parsed, err := s.checkQuery(req.Query)
	if err != nil {
		httpError(w, http.StatusBadRequest, err.Error())
		return
	}
	if parsed == nil {
		_, err := query.Parse(req.Query)
		httpError(w, http.StatusBadRequest, err.Error())
		return
	}
	h, ctx, end, ok := s.begin(w, r, req.Index)
	if !ok {
		return
	}
	defer end()
	snap, err := h.st.Snapshot()
	if err != nil {
		s.queryError(w, r, err)
		return
	}
	all := scans(parsed)
	if _, err := export.Columns(snap, !all, o); err != nil {
		httpError(w, http.StatusBadRequest, err.Error())
		return
	}
	ctx, done, err := s.admit(ctx, all)
	if err != nil {
		s.queryError(w, r, err)
		return
	}
	defer done()
	res, err := h.st.Query(ctx, req.Query, &engine.Options{Exact: req.Exact})
	if err != nil {
		s.queryError(w, r, err)
		return
	}
	if res.Selected > s.opts.MaxExport {
		httpError(w, http.StatusBadRequest, fmt.Sprintf("the query selects %d rows; this server exports at most %d (laiondb serve --max-export; 'laiondb export' has no limit)", res.Selected, s.opts.MaxExport))
		return
	}
	var buf bytes.Buffer
	sum, err := export.Write(ctx, snap, res, &buf, o)
	if err != nil {
		s.queryError(w, r, err)
		return
	}
	types := map[export.Format]string{export.Parquet: "application/vnd.apache.parquet", export.JSONL: "application/x-ndjson",
		export.CSV: "text/csv; charset=utf-8", export.JSON: "application/json"}
	w.Header().Set("Content-Type", types[sum.Format])
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="laiondb-export.%s"`, sum.Format))
	w.Header().Set("X-Laiondb-Rows", fmt.Sprint(sum.Rows))
	w.Write(buf.Bytes())
}
