package engine

// The number of selected rows: Result.Selected.

func init() {
	register(0, func(*schema) []statistic {
		return []statistic{{new: func() stat { return new(selectedCount) }}}
	})
}

// selectedCount counts the selected rows.
type selectedCount int

func (c *selectedCount) Add(s *selection)  { *c += selectedCount(s.count) }
func (c *selectedCount) Merge(o stat)      { *c += *o.(*selectedCount) }
func (c *selectedCount) Write(res *Result) { res.Selected = int(*c) }
