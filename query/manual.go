package query

import (
	_ "embed"

	"github.com/laiondb/laiondb/internal/godoc"
)

//go:embed doc.go
var docSource string

// Manual returns the query language's manual as plain text: the package
// documentation that go doc shows ('laiondb help query' prints it).
func Manual() string { return godoc.Text(docSource) }
