package export

import "github.com/laiondb/laiondb/table"

// The ClipSubset shape is the file clip-retrieval's web page downloads,
// clipsubset.json. The page (front/src/clip-front.js, download) asks its
// back end's /knn-service for up to 10,000 results and saves them with
// JSON.stringify(results, null, 2). The back end (clip_retrieval/
// clip_back.py, KnnService.map_to_metadata) makes each result the row's
// metadata columns among its columns_to_return, by default url,
// image_path, caption and NSFW, then sets "id" to the row's position in
// the index and "similarity" to the search's score. So each object here
// is: url, caption (the store's text), NSFW (when the store has an nsfw
// column), id (the store position, laiondb's index position) and, for
// knn and within searches, similarity (the cosine score; an all query
// has none). Nulls are null, as pandas writes them.

// clipSubsetColumns returns the ClipSubset shape's columns for a store.
func clipSubsetColumns(store []table.ColumnInfo, search bool) ([]Column, error) {
	url, text, err := urlAndCaption(store, ClipSubset)
	if err != nil {
		return nil, err
	}
	cols := []Column{{Name: "url", Type: String, Store: url}, {Name: "caption", Type: String, Store: text}}
	if c := findColumn(store, "nsfw"); c != nil {
		cols = append(cols, Column{Name: "NSFW", Type: typeOf(c.Type), Store: c.Name})
	}
	cols = append(cols, Column{Name: "id", Type: Int64, kind: kindRow})
	if search {
		cols = append(cols, Column{Name: "similarity", Type: Float32, kind: kindScore})
	}
	return cols, nil
}
