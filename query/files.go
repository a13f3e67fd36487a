package query

// Files returns the paths of the files a query reads when it runs, in the
// order they appear: list files (in file(...)), seed files (rows(file(...)),
// ids(file(...))), image targets (image(...)) and vector files
// (vector(...)). A server uses it to refuse queries that would read its
// disk.
func (q *Query) Files() []string {
	var out []string
	var target func(t *TargetNode)
	target = func(t *TargetNode) {
		switch t.Target.Kind {
		case TargetImage, TargetNpy, TargetRows, TargetIDs:
			out = append(out, t.Target.Path)
		}
	}
	switch s := q.Source.(type) {
	case *KNNSource:
		target(s.Target)
	case *WithinSource:
		target(s.Target)
	}
	var expr func(e Expr)
	expr = func(e Expr) {
		switch e := e.(type) {
		case *BinaryExpr:
			expr(e.X)
			expr(e.Y)
		case *NotExpr:
			expr(e.X)
		case *InExpr:
			if e.File != nil {
				out = append(out, e.File.Path)
			}
		}
	}
	if q.Where != nil {
		expr(q.Where)
	}
	if q.Post != nil {
		expr(q.Post)
	}
	return out
}
