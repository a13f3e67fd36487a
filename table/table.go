package table

// Type is the type of a stored column.
type Type uint8

// Column types. Parquet int32/int64 columns are TypeInt, float/double are
// TypeFloat; any other parquet type is stored as its text form (TypeString).
const (
	TypeString Type = iota + 1
	TypeInt
	TypeFloat
	TypeBool
)

// String returns the type's name as info prints it.
func (t Type) String() string {
	switch t {
	case TypeString:
		return "string"
	case TypeInt:
		return "int"
	case TypeFloat:
		return "float"
	case TypeBool:
		return "bool"
	}
	return "unknown"
}

// ColumnInfo describes one column of the store. Names are lower case: the
// store maps TEXT and caption to "text", URL to "url", SAMPLE_ID to
// "sample_id", NSFW to "nsfw", and lower-cases every other name.
type ColumnInfo struct {
	Name string `json:"name"`
	Type Type   `json:"type"`
	// Computed marks a column the store computes from its own data rather
	// than reads from a source file (pair_cos, the cosine of each row's
	// image and text embeddings): it is not part of the dataset released.
	Computed bool `json:"computed,omitempty"`
}

// Strings is a column of strings laid out as one byte slice and n+1 offsets:
// value i is Data[Off[i]:Off[i+1]].
type Strings struct {
	Data []byte
	Off  []uint32
}

// Len reports the number of values.
func (s *Strings) Len() int {
	if len(s.Off) == 0 {
		return 0
	}
	return len(s.Off) - 1
}

// At returns value i. The slice aliases Data and must not be modified.
func (s *Strings) At(i int) []byte { return s.Data[s.Off[i]:s.Off[i+1]] }

// Column holds the values of one column for the rows of a Batch. Exactly the
// slice that matches Type is set. Null, when non-nil, marks null values;
// a nil Null means no value is null.
type Column struct {
	Type  Type
	Null  []bool
	Str   Strings
	Int   []int64
	Float []float64
	Bool  []bool
}

// IsNull reports whether value i is null.
func (c *Column) IsNull(i int) bool { return c.Null != nil && c.Null[i] }

// Missing reports whether value i is missing: null, or NaN in a float
// column. "is null" and the null bucket of label counts test Missing, as
// pandas' isna does; the similarity statistics count null and NaN apart.
func (c *Column) Missing(i int) bool {
	return c.IsNull(i) || (c.Type == TypeFloat && c.Float[i] != c.Float[i])
}

// Batch is a set of rows with the columns a query asked for. Scans deliver
// consecutive store rows (Rows is nil and row i is Start+i); fetches deliver
// the rows listed in Rows, in that order.
type Batch struct {
	Start uint32
	Rows  []uint32
	Len   int
	// Cols maps a lower-case column name to its values. A column the store
	// does not have is absent; a column some source files lack is present
	// with those rows null.
	Cols map[string]*Column
}

// Row returns the store row position of batch row i.
func (b *Batch) Row(i int) uint32 {
	if b.Rows != nil {
		return b.Rows[i]
	}
	return b.Start + uint32(i)
}

// NullColumn returns a column of type t holding n nulls.
func NullColumn(t Type, n int) *Column {
	c := &Column{Type: t, Null: make([]bool, n)}
	for i := range c.Null {
		c.Null[i] = true
	}
	switch t {
	case TypeString:
		c.Str = Strings{Off: make([]uint32, n+1)}
	case TypeInt:
		c.Int = make([]int64, n)
	case TypeFloat:
		c.Float = make([]float64, n)
	case TypeBool:
		c.Bool = make([]bool, n)
	}
	return c
}

// Append adds value i of src, which has c's type, at the end of c.
func (c *Column) Append(src *Column, i int) {
	n := c.len()
	if src.IsNull(i) {
		if c.Null == nil {
			c.Null = make([]bool, n, n+1)
		}
		c.Null = append(c.Null, true)
	} else if c.Null != nil {
		c.Null = append(c.Null, false)
	}
	switch c.Type {
	case TypeString:
		if len(c.Str.Off) == 0 {
			c.Str.Off = []uint32{0}
		}
		c.Str.Data = append(c.Str.Data, src.Str.At(i)...)
		c.Str.Off = append(c.Str.Off, uint32(len(c.Str.Data)))
	case TypeInt:
		c.Int = append(c.Int, src.Int[i])
	case TypeFloat:
		c.Float = append(c.Float, src.Float[i])
	case TypeBool:
		c.Bool = append(c.Bool, src.Bool[i])
	}
}

// len returns the number of values c holds.
func (c *Column) len() int {
	switch c.Type {
	case TypeString:
		return c.Str.Len()
	case TypeInt:
		return len(c.Int)
	case TypeFloat:
		return len(c.Float)
	case TypeBool:
		return len(c.Bool)
	}
	return len(c.Null)
}
