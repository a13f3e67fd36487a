package encode

import (
	_ "embed"

	"github.com/laiondb/laiondb/internal/godoc"
)

//go:embed doc.go
var docSource string

// ModelHelp says, as plain text, how to export a CLIP model for laiondb
// and which files, inputs and outputs it reads ('laiondb help models'
// prints it): the "Exporting a model" and "Model folder" sections of the
// package documentation.
func ModelHelp() string {
	text := godoc.Text(docSource)
	return "Exporting a model\n\n" + godoc.Section(text, "Exporting a model") +
		"The model folder\n\n" + godoc.Section(text, "Model folder")
}
