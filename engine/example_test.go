package engine_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/engine/enginetest"
	"github.com/laiondb/laiondb/query"
)

func ExampleRun() {
	// A generated LAION-like store: 10,000 rows with 8-dimensional
	// embeddings; the text 'beautiful' resolves to a fixed vector.
	s := enginetest.Generate(10000, 8, 1)

	q := query.MustParse(`knn('beautiful', 100) where nsfw = 'UNLIKELY'`)
	res, err := engine.Run(context.Background(), s, q, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("selected:", res.Selected, "exact:", res.Exact)
	for _, v := range res.NSFW.Values {
		fmt.Printf("nsfw %s: %d\n", v.Value, v.Count)
	}
	lx := res.Lexicons[0]
	fmt.Printf("%s flags %d rows (text %d, url %d)\n", lx.Name, lx.Either.Count, lx.Text.Count, lx.URL.Count)
	// Output:
	// selected: 100 exact: true
	// nsfw UNLIKELY: 100
	// essay2021 flags 79 rows (text 64, url 33)
}

func ExampleRun_postFilter() {
	s := enginetest.Generate(10000, 8, 1)
	// The K nearest among the rows that satisfy the predicate...
	pre, _ := engine.Run(context.Background(), s, query.MustParse(`knn('beautiful', 100) where nsfw = 'UNSURE'`), nil)
	// ...and what a UI that filters after the search shows.
	post, _ := engine.Run(context.Background(), s, query.MustParse(`knn('beautiful', 100) post where nsfw = 'UNSURE'`), nil)
	fmt.Println(pre.Selected, post.Selected)
	// Output:
	// 100 13
}

func ExampleLoadLexicon() {
	kws, _ := engine.LoadLexicon(strings.NewReader("# my keywords\ndesi\n aunty \n\n"))
	s := enginetest.Generate(1000, 0, 1)
	res, _ := engine.Run(context.Background(), s, query.MustParse(`all where text lexicon mine`),
		&engine.Options{Lexicons: map[string][]string{"mine": kws}})
	fmt.Printf("%q: %d rows\n", kws, res.Selected)
	// Output:
	// ["desi" " aunty "]: 370 rows
}

func ExamplePlan() {
	s := enginetest.Generate(1000, 8, 1)
	p, err := engine.NewPlan(query.MustParse(`knn(row(7), 10) where text ~ 'desi' post where nsfw = 'UNLIKELY'`), s, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(p)
	// Output:
	// query: knn(row(7), 10) where text contains 'desi' post where nsfw = 'UNLIKELY'
	// 1. scan 1000 rows, columns [text]: where text contains 'desi' -> allow-list for the search
	// 2. search: 10 nearest to the embedding of row(7) among the allowed rows (exact count of K among rows satisfying where)
	// 3. post where nsfw = 'UNLIKELY', on the rows above, columns [nsfw]
	// 4. statistics of the selected rows: nsfw counts, lexicon essay2021, similarity
}
