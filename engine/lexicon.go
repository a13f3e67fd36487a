package engine

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

// Essay2021 is the built-in lexicon essay2021: the keyword list of
// check_nsfw in Birhane, Prabhu & Kahembwe (2021), byte for byte. Note the
// trailing space of "hot " and the spaces around " rape ".
var Essay2021 = []string{"porn", "hot ", "adult", "xxx", "sex", "fuck", " rape "}

// BuiltinLexicon is the name of the built-in lexicon.
const BuiltinLexicon = "essay2021"

// LoadLexicon reads a keyword list: one keyword per line, kept exactly as
// written, leading and trailing spaces included (only the line ending, \n
// or \r\n, is removed). Lines that are empty or hold only white space are
// skipped, and so are lines starting with '#'.
func LoadLexicon(r io.Reader) ([]string, error) {
	var kws []string
	br := bufio.NewReader(r)
	for line := 1; ; line++ {
		s, err := br.ReadString('\n')
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("query: reading lexicon line %d: %w", line, err)
		}
		if line == 1 {
			s = strings.TrimPrefix(s, "\uFEFF")
		}
		s = strings.TrimSuffix(s, "\n")
		s = strings.TrimSuffix(s, "\r")
		if strings.TrimSpace(s) != "" && !strings.HasPrefix(s, "#") {
			kws = append(kws, s)
		}
		if err == io.EOF {
			break
		}
	}
	return kws, nil
}

// LoadLexiconFile reads a keyword list from a file, as LoadLexicon does.
// An empty list is an error.
func LoadLexiconFile(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("query: lexicon: %w", err)
	}
	defer f.Close()
	kws, err := LoadLexicon(f)
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	if len(kws) == 0 {
		return nil, fmt.Errorf("query: lexicon %s has no keywords", path)
	}
	return kws, nil
}

// lexicon is a resolved keyword list.
type lexicon struct {
	name     string
	keywords []string // as given
	lowered  [][]byte // pyLower of each keyword: the needles
	set      *needleSet
}

func newLexicon(name string, kws []string) *lexicon {
	lx := &lexicon{name: name, keywords: kws}
	for _, k := range kws {
		lx.lowered = append(lx.lowered, []byte(pyLower(k)))
	}
	lx.set = newNeedleSet(lx.lowered)
	return lx
}
