package query_test

import (
	"fmt"

	"github.com/laiondb/laiondb/query"
)

func ExampleParse() {
	q, err := query.Parse(`knn('beautiful',100) where nsfw='UNLIKELY' or text ~ 'desi' and not url lexicon essay2021`)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(q)

	_, err = query.Parse(`knn('beautiful',100 where nsfw='UNLIKELY'`)
	fmt.Println(err)
	// Output:
	// knn('beautiful', 100) where (nsfw = 'UNLIKELY' or (text contains 'desi' and not url lexicon essay2021))
	// query: syntax error: expected ')' after k, found "where" (offset 20)
	//     knn('beautiful',100 where nsfw='UNLIKELY'
	//                         ^
}
