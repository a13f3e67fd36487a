package engine

import "sort"

// Rates by source file ("by file"): how many selected rows each source
// file holds, as a share of the file's rows in the population (the file's
// rows, or those of the sample), with the pooled rate (Result.Files).

func init() {
	register(45, func(s *schema) []statistic {
		if !s.byFile {
			return nil
		}
		return []statistic{{desc: "rates by source file", new: func() stat {
			return &fileCounts{files: s.files, n: make([]int, len(s.files))}
		}}}
	})
}

// FileRates are the selected rows of each source file as a share of the
// file's rows in the population, and the pooled share.
type FileRates struct {
	// Population says what the shares are of: every row of each file, or
	// the rows the sample drew.
	Population string     `json:"population"`
	Files      []FileRate `json:"files"`
	// Pooled is the selected rows of all files as a share of the whole
	// population.
	Pooled Proportion `json:"pooled"`
}

// FileRate is one source file's rate.
type FileRate struct {
	File string `json:"file"`
	// Rows is the number of the file's rows in the store.
	Rows int `json:"rows"`
	// Rate counts the file's selected rows (Count) of its rows in the
	// population (Of), with the Wilson interval of the share.
	Rate Proportion `json:"rate"`
}

// fileCounts counts the selected rows of each file.
type fileCounts struct {
	files []fileRange
	n     []int
	last  int // the file of the last row added, to skip the search
}

func (fc *fileCounts) Add(s *selection) {
	forEachBit(s.sel, func(i int) {
		r := s.ec.b.Row(i)
		if f := fc.files[fc.last]; r < f.lo || r >= f.hi {
			fc.last = sort.Search(len(fc.files), func(j int) bool { return fc.files[j].hi > r })
		}
		fc.n[fc.last]++
	})
}

func (fc *fileCounts) Merge(o stat) {
	for i, k := range o.(*fileCounts).n {
		fc.n[i] += k
	}
}

// Write fills the counts into res.Files, whose populations the run set.
func (fc *fileCounts) Write(res *Result) {
	fr := res.Files
	sel, pop := 0, 0
	for i, k := range fc.n {
		fr.Files[i].Rate = NewProportion(k, fr.Files[i].Rate.Of)
		sel, pop = sel+k, pop+fr.Files[i].Rate.Of
	}
	fr.Pooled = NewProportion(sel, pop)
}
