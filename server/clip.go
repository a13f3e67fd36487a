package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"strings"

	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/query"
	"github.com/laiondb/laiondb/table"
)

// clip-retrieval's back end (clip_retrieval/clip_back.py): POST
// /knn-service, POST /metadata and GET /indices-list, with its field
// names and its response shapes, so that ClipClient and its web page can
// call laiondb. An id is a store row position.

// knnRequest is the body of POST /knn-service: clip-retrieval's fields,
// then laiondb's optional extensions. Absent and null fields are alike.
type knnRequest struct {
	Text                *string         `json:"text"`
	Image               *string         `json:"image"`
	ImageURL            *string         `json:"image_url"`
	EmbeddingInput      []float64       `json:"embedding_input"`
	Modality            *string         `json:"modality"`
	NumImages           *int            `json:"num_images"`
	NumResultIDs        *int            `json:"num_result_ids"`
	IndiceName          string          `json:"indice_name"` // null reads as ""
	Deduplicate         *bool           `json:"deduplicate"`
	UseSafetyModel      *bool           `json:"use_safety_model"`
	UseViolenceDetector *bool           `json:"use_violence_detector"`
	UseMclip            *bool           `json:"use_mclip"`
	AestheticScore      json.RawMessage `json:"aesthetic_score"`
	AestheticWeight     json.RawMessage `json:"aesthetic_weight"`

	// Where is a predicate of laiondb's language, applied before the top
	// K are taken (so num_result_ids rows come back when that many match).
	Where *string `json:"where"`
	// Threshold asks for every row at cosine >= Threshold (within), at
	// most num_result_ids of them, instead of the K nearest.
	Threshold *float64 `json:"threshold"`
	// Exact forces an exact scan.
	Exact *bool `json:"exact"`
	// CountOnly answers {"count", "exact", "plan"} instead of the rows.
	CountOnly *bool `json:"count_only"`
}

// IgnoredHeader names the request fields the server accepted but did not
// apply, as clip-retrieval's back end does when it has no such model.
const IgnoredHeader = "X-Laiondb-Ignored"

func (s *Server) knnService(w http.ResponseWriter, r *http.Request) {
	var req knnRequest
	if !decode(w, r, &req) {
		return
	}
	bad := func(format string, args ...any) { httpError(w, http.StatusBadRequest, fmt.Sprintf(format, args...)) }
	given := 0
	for _, set := range []bool{req.Text != nil, req.Image != nil, req.ImageURL != nil, req.EmbeddingInput != nil} {
		if set {
			given++
		}
	}
	if given != 1 {
		bad("fill exactly one of text, image, image_url and embedding_input (%d given)", given)
		return
	}
	if req.NumImages == nil {
		bad("num_images is required: how many results carry metadata")
		return
	}
	numImages := *req.NumImages
	k := numImages
	if req.NumResultIDs != nil {
		k = *req.NumResultIDs
	}
	if numImages < 0 || k < 1 || numImages > s.opts.MaxResults || k > s.opts.MaxResults {
		bad("num_images %d and num_result_ids %d: want 1 to %d (laiondb serve --max-results)", numImages, k, s.opts.MaxResults)
		return
	}
	space := query.SpaceImage
	if req.Modality != nil {
		switch *req.Modality {
		case "image":
		case "text":
			space = query.SpaceText
		default:
			bad("modality %q: want image or text (which embeddings to search)", *req.Modality)
			return
		}
	}
	if req.UseMclip != nil && *req.UseMclip {
		bad("use_mclip: this server has no multilingual CLIP; send use_mclip false")
		return
	}
	var ignored []string
	if req.UseSafetyModel != nil && *req.UseSafetyModel {
		ignored = append(ignored, "use_safety_model")
	}
	if req.UseViolenceDetector != nil && *req.UseViolenceDetector {
		ignored = append(ignored, "use_violence_detector")
	}
	if a := strings.TrimSpace(string(req.AestheticScore)); a != "" && a != "null" && a != `""` {
		ignored = append(ignored, "aesthetic_score", "aesthetic_weight")
	}
	h, ctx, end, ok := s.begin(w, r, req.IndiceName)
	if !ok {
		return
	}
	defer end()
	defer s.gate.Enter()() // a short request: scans give way to it

	// The target.
	tn := &query.TargetNode{}
	switch {
	case req.Text != nil:
		tn.Target = query.Target{Kind: query.TargetText, Text: *req.Text}
	case req.EmbeddingInput != nil:
		vec := make([]float32, len(req.EmbeddingInput))
		for i, x := range req.EmbeddingInput {
			vec[i] = float32(x)
		}
		tn.Target = query.Target{Kind: query.TargetVector, Vec: vec}
	case req.Image != nil:
		path, err := imageFile(*req.Image)
		if err != nil {
			bad("image: %v", err)
			return
		}
		defer os.Remove(path)
		tn.Target = query.Target{Kind: query.TargetImage, Path: path}
	default:
		u := *req.ImageURL
		path, isFile := strings.CutPrefix(u, "file://")
		if !isFile && strings.HasPrefix(u, "/") {
			path, isFile = u, true
		}
		if !isFile || !s.opts.AllowFiles {
			bad("image_url %q: this server does not download images; send the image as base64 in image (a local file path works when the server runs with --allow-files)", u)
			return
		}
		tn.Target = query.Target{Kind: query.TargetImage, Path: path}
	}
	dedup := 0.0
	if req.Deduplicate != nil && *req.Deduplicate {
		dedup = query.DefaultDedup
	}
	q := &query.Query{Limit: -1}
	if req.Threshold != nil {
		if t := *req.Threshold; !(t >= -1 && t <= 1) {
			bad("threshold %v: want a cosine in [-1, 1]", t)
			return
		}
		q.Source = &query.WithinSource{Target: tn, Threshold: *req.Threshold, Space: space, Dedup: dedup}
		q.Limit = int64(k)
	} else {
		q.Source = &query.KNNSource{Target: tn, K: int64(k), Space: space, Dedup: dedup}
	}
	if req.Where != nil && strings.TrimSpace(*req.Where) != "" {
		p, err := query.Parse("all where " + *req.Where)
		if err != nil {
			bad("where: %v", err)
			return
		}
		q.Where = p.Where
		if err := s.checkFiles(p); err != nil {
			bad("where: %v", err)
			return
		}
	}
	res, err := h.st.Query(ctx, q.String(), &engine.Options{Exact: req.Exact != nil && *req.Exact})
	if err != nil {
		s.queryError(w, r, err)
		return
	}
	if len(ignored) > 0 {
		w.Header().Set(IgnoredHeader, strings.Join(ignored, ", "))
	}
	if req.CountOnly != nil && *req.CountOnly {
		writeJSON(w, http.StatusOK, map[string]any{"count": res.Selected, "exact": res.Exact, "plan": res.Plan})
		return
	}
	rows := make([]uint32, min(numImages, len(res.Hits)))
	for i := range rows {
		rows[i] = res.Hits[i].Row
	}
	metas, err := s.fetchMetadata(ctx, h, rows)
	if err != nil {
		s.queryError(w, r, err)
		return
	}
	out := make([]map[string]any, len(res.Hits))
	for i, hit := range res.Hits {
		o := map[string]any{}
		if i < len(metas) {
			o = metas[i]
		}
		o["id"] = hit.Row
		o["similarity"] = float64(hit.Score)
		out[i] = o
	}
	writeJSON(w, http.StatusOK, out)
}

// imageFile writes a base64 image to a temporary file for the encoder.
func imageFile(b64 string) (string, error) {
	data, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return "", fmt.Errorf("not base64: %v", err)
	}
	f, err := os.CreateTemp("", "laiondb-query-*.img")
	if err != nil {
		return "", err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), f.Close()
}

// metadataRequest is the body of POST /metadata.
type metadataRequest struct {
	IDs        []int64 `json:"ids"`
	IndiceName string  `json:"indice_name"`
}

func (s *Server) metadata(w http.ResponseWriter, r *http.Request) {
	var req metadataRequest
	if !decode(w, r, &req) {
		return
	}
	if len(req.IDs) > s.opts.MaxResults {
		httpError(w, http.StatusBadRequest, fmt.Sprintf("%d ids: at most %d a request (laiondb serve --max-results)", len(req.IDs), s.opts.MaxResults))
		return
	}
	h, ctx, end, ok := s.begin(w, r, req.IndiceName)
	if !ok {
		return
	}
	defer end()
	defer s.gate.Enter()() // a short request: scans give way to it
	rows := make([]uint32, len(req.IDs))
	n, err := h.st.Snapshot()
	if err != nil {
		s.queryError(w, r, err)
		return
	}
	for i, id := range req.IDs {
		if id < 0 || id >= int64(n.NumRows()) {
			httpError(w, http.StatusBadRequest, fmt.Sprintf("id %d: the index has rows 0 to %d", id, n.NumRows()-1))
			return
		}
		rows[i] = uint32(id)
	}
	metas, err := s.fetchMetadata(ctx, h, rows)
	if err != nil {
		s.queryError(w, r, err)
		return
	}
	out := make([]map[string]any, len(rows))
	for i, id := range req.IDs {
		out[i] = map[string]any{"id": id, "metadata": metas[i]}
	}
	writeJSON(w, http.StatusOK, out)
}

// clipNames are the keys clip-retrieval's metadata uses for laiondb's
// column names.
var clipNames = map[string]string{"text": "caption", "nsfw": "NSFW"}

// fetchMetadata returns Options.Columns of rows (those the store has),
// keyed as clip-retrieval names them, with their types: strings, integers,
// floats (NaN as null), booleans; null for nulls.
func (s *Server) fetchMetadata(ctx context.Context, h *handle, rows []uint32) ([]map[string]any, error) {
	snap, err := h.st.Snapshot()
	if err != nil {
		return nil, err
	}
	var cols []string
	for _, c := range s.opts.Columns {
		for _, ci := range snap.Columns() {
			if ci.Name == c {
				cols = append(cols, c)
			}
		}
	}
	out := make([]map[string]any, len(rows))
	for i := range out {
		out[i] = map[string]any{}
	}
	if len(rows) == 0 || len(cols) == 0 {
		return out, nil
	}
	b, err := snap.Fetch(ctx, rows, cols)
	if err != nil {
		return nil, err
	}
	for _, c := range cols {
		key := c
		if k, ok := clipNames[c]; ok {
			key = k
		}
		col := b.Cols[c]
		for i := range rows {
			out[i][key] = cellValue(col, i)
		}
	}
	return out, nil
}

// cellValue is value i of c for JSON.
func cellValue(c *table.Column, i int) any {
	if c == nil || c.IsNull(i) {
		return nil
	}
	switch c.Type {
	case table.TypeString:
		return string(c.Str.At(i))
	case table.TypeInt:
		return c.Int[i]
	case table.TypeFloat:
		if f := c.Float[i]; !math.IsNaN(f) && !math.IsInf(f, 0) {
			return f
		}
		return nil
	case table.TypeBool:
		return c.Bool[i]
	}
	return nil
}
