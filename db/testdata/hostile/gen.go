//go:build ignore

// gen writes the hostile input corpus that db/hostile_test.go ingests and
// the fuzz targets start from. The output is deterministic; regenerate with
//
//	cd db/testdata/hostile && go run gen.go
//
// and commit the files. Every file pairs with the others by row count: the
// good metadata file has 16 rows and the good embeddings are 16×8 float16.
package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"log"
	"math"
	"os"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/snappy"
	"github.com/parquet-go/parquet-go/compress/zstd"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"

	"github.com/laiondb/laiondb/demodata"
	"github.com/laiondb/laiondb/internal/npy"
)

const (
	rows = 16
	dim  = 8
)

func main() {
	meta := must(writeRows("meta16.parquet", demodata.Rows(100, 0, rows, nil)))
	writeRows("meta15.parquet", demodata.Rows(101, 0, rows-1, nil))
	goodNpy("img16.npy", rows, dim, nil)

	// --- parquet: empty, truncated, bit-flipped ---
	put("empty.parquet", nil)
	put("magic-only.parquet", []byte("PAR1"))
	put("trunc-head.parquet", meta[:100])
	put("trunc-half.parquet", meta[:len(meta)/2])
	put("trunc-last-byte.parquet", meta[:len(meta)-1])
	put("trunc-no-footer.parquet", append(clone(meta[:len(meta)/2]), meta[len(meta)-8:]...))
	footerLen := int(binary.LittleEndian.Uint32(meta[len(meta)-8:]))
	footer := len(meta) - 8 - footerLen
	flipAt("flip-head-magic.parquet", meta, 1)
	flipAt("flip-tail-magic.parquet", meta, len(meta)-2)
	flipAt("flip-footer-len.parquet", meta, len(meta)-6) // footer length += 2^17
	flipAt("flip-footer-len-low.parquet", meta, len(meta)-8)
	flipAt("flip-footer-start.parquet", meta, footer)
	flipAt("flip-footer-quarter.parquet", meta, footer+footerLen/4)
	flipAt("flip-footer-mid.parquet", meta, footer+footerLen/2)
	flipAt("flip-footer-end.parquet", meta, footer+footerLen-3)
	pf, err := parquet.OpenFile(bytes.NewReader(meta), int64(len(meta)))
	check(err)
	for _, cc := range pf.Metadata().RowGroups[0].Columns {
		md := cc.MetaData
		name := strings.ToLower(md.PathInSchema[0])
		if name != "caption" && name != "nsfw" && name != "similarity" {
			continue
		}
		data := int(md.DataPageOffset)
		flipAt("flip-"+name+"-page-header.parquet", meta, data+1)
		end := int(md.DataPageOffset) + int(md.TotalCompressedSize)
		if md.DictionaryPageOffset > 0 {
			end = int(md.DictionaryPageOffset) + int(md.TotalCompressedSize)
			flipAt("flip-"+name+"-dict-header.parquet", meta, int(md.DictionaryPageOffset)+2)
		}
		flipAt("flip-"+name+"-page-data.parquet", meta, end-5)
	}
	lieRows("rows-lie-more.parquet", meta, 1000)
	lieRows("rows-lie-fewer.parquet", meta, 3)
	lieRows("rows-lie-negative.parquet", meta, -5)

	// --- parquet: schemas and values ---
	type dup struct {
		URL     string `parquet:"url"`
		TEXT    string `parquet:"TEXT"`
		Caption string `parquet:"caption"`
	}
	writeStructs("dup-columns.parquet", []dup{{"https://a/1", "one", "uno"}, {"https://a/2", "two", "dos"}})
	type dupCase struct {
		URL1 string `parquet:"url"`
		URL2 string `parquet:"URL"`
	}
	writeStructs("dup-case.parquet", []dupCase{{"https://a/1", "https://b/1"}})
	type size struct {
		W int32 `parquet:"w"`
		H int32 `parquet:"h"`
	}
	type nested struct {
		URL     string   `parquet:"url"`
		Caption string   `parquet:"caption"`
		Tags    []string `parquet:"tags,list"`
		Reps    []int32  `parquet:"reps"`
		Size    size     `parquet:"size"`
	}
	var ns []nested
	for i := 0; i < rows; i++ {
		ns = append(ns, nested{fmt.Sprintf("https://n/%d", i), fmt.Sprintf("nested %d", i),
			[]string{"a", "b"}[:i%3%2+i%2], []int32{int32(i), int32(-i)}[:i%3], size{int32(i), int32(2 * i)}})
	}
	writeStructs("nested.parquet", ns)
	type nestedOnly struct {
		Tags []string `parquet:"tags,list"`
		Size size     `parquet:"size"`
	}
	writeStructs("nested-only.parquet", []nestedOnly{{[]string{"x"}, size{1, 2}}})
	type types struct {
		Caption string            `parquet:"caption"`
		I96     deprecated.Int96  `parquet:"i96"`
		Fixed   [16]byte          `parquet:"fixed"`
		Flag    bool              `parquet:"flag"`
		F32     float32           `parquet:"f32"`
		U32     uint32            `parquet:"u32"`
		U64     uint64            `parquet:"u64"`
		I8      int8              `parquet:"i8"`
		I16     int16             `parquet:"i16"`
		Date    int32             `parquet:"day,date"`
		TS      time.Time         `parquet:"ts,timestamp(millisecond)"`
		Dec     int64             `parquet:"dec,decimal(2:18)"`
		Enum    string            `parquet:"enum,enum"`
		JSON    string            `parquet:"js,json"`
		Blob    []byte            `parquet:"blob"`
		OptF    *float32          `parquet:"optf,optional"`
		OptB    *bool             `parquet:"optb,optional"`
		Map     map[string]string `parquet:"m"`
	}
	var ts []types
	for i := 0; i < rows; i++ {
		var fx [16]byte
		for j := range fx {
			fx[j] = byte(i*16 + j) // not UTF-8 for i >= 8
		}
		t := types{
			Caption: fmt.Sprintf("typed %d", i),
			I96:     deprecated.Int96{uint32(i), 0, 2440588 + uint32(i)},
			Fixed:   fx, Flag: i%2 == 0, F32: float32(i) / 3,
			U32: math.MaxUint32 - uint32(i), U64: math.MaxUint64 - uint64(i),
			I8: int8(-i), I16: int16(-1000 * i), Date: int32(19000 + i),
			TS:  time.Date(2021, 10, 1, 0, 0, i, 0, time.UTC),
			Dec: int64(12345 + i), Enum: "E" + fmt.Sprint(i%3), JSON: `{"k":` + fmt.Sprint(i) + `}`,
			Blob: []byte{0xff, byte(i), 0},
			Map:  map[string]string{"k": "v"},
		}
		if i%4 != 0 {
			t.OptF, t.OptB = ptr(float32(math.NaN())), ptr(i%2 == 1)
		}
		if i == 5 {
			t.OptF = ptr(float32(math.Inf(-1)))
		}
		ts = append(ts, t)
	}
	writeStructs("types.parquet", ts)

	type capRow struct {
		URL     *string `parquet:"url,optional"`
		Caption *string `parquet:"caption,optional"`
		NSFW    *string `parquet:"NSFW,optional"`
	}
	huge := strings.Repeat("a photo of a cat on a mat ", 5<<20/26+1)[:5<<20]
	hugeRows := []capRow{{ptr("https://h/0"), ptr("short"), ptr("UNLIKELY")}, {ptr("https://h/1"), ptr(huge), ptr("NSFW")}, {ptr(huge[:1<<20] + "\xff"), nil, ptr(huge[:70000])}}
	writeStructsZstd("huge-caption.parquet", hugeRows)
	utf := []capRow{
		{ptr("https://u/0"), ptr("caf\xe9"), ptr("UNLIKELY")},
		{ptr("https://u/\xff\xfe"), ptr("ok"), ptr("UNSURE")},
		{ptr("https://u/2"), ptr("\xc3\x28 bad continuation"), ptr("NS\x80FW")},
		{ptr("https://u/3"), ptr("surrogate \xed\xa0\x80"), nil},
		{nil, nil, ptr("")},
		{ptr("https://u/5"), ptr("nul \x00 byte"), ptr("UNLIKELY\x00")},
		{ptr("https://u/6"), ptr("overlong \xc0\xaf"), ptr("UNLIKELY")},
		{ptr("https://u/7"), ptr("fine ünïcödé 日本"), ptr("NSFW")},
	}
	writeStructs("non-utf8.parquet", utf)
	type zero struct {
		URL     string `parquet:"url"`
		Caption string `parquet:"caption"`
	}
	writeStructs("zero-rows.parquet", []zero{})
	type conflict struct {
		Caption    string `parquet:"caption"`
		Similarity string `parquet:"similarity"`
		Width      bool   `parquet:"width"`
		Key        int64  `parquet:"key"`
	}
	var cs []conflict
	for i := 0; i < rows; i++ {
		cs = append(cs, conflict{fmt.Sprint("conflict ", i), []string{"0.31", "high", "6016"}[i%3], i%2 == 0, int64(i)})
	}
	writeStructs("type-conflict.parquet", cs)
	// A column whose name is not UTF-8 and one that is empty.
	schema := parquet.NewSchema("row", parquet.Group{
		"caf\xe9": parquet.String(),
		"":        parquet.Leaf(parquet.Int64Type),
		"caption": parquet.String(),
	})
	var buf bytes.Buffer
	w := parquet.NewWriter(&buf, schema)
	for i := 0; i < 4; i++ {
		_, err := w.WriteRows([]parquet.Row{{parquet.Int64Value(int64(i)).Level(0, 0, 0), parquet.ByteArrayValue([]byte("x")).Level(0, 0, 1), parquet.ByteArrayValue([]byte("name "+fmt.Sprint(i))).Level(0, 0, 2)}})
		check(err)
	}
	check(w.Close())
	put("odd-names.parquet", buf.Bytes())

	// --- npy files that lie or hold hostile values (pair with meta16) ---
	good := goodNpy("", rows, dim, nil)
	put("npy-empty.npy", nil)
	put("npy-magic-only.npy", []byte("\x93NUMPY"))
	put("npy-not-npy.npy", []byte("PK\x03\x04 this is a zip, not npy"))
	hdr := func(dict string) []byte { return npyWithDict(1, dict, good[128:]) }
	put("npy-shape-more.npy", hdr("{'descr': '<f2', 'fortran_order': False, 'shape': (17, 8), }"))
	put("npy-shape-fewer.npy", hdr("{'descr': '<f2', 'fortran_order': False, 'shape': (15, 8), }"))
	put("npy-shape-wide.npy", hdr("{'descr': '<f2', 'fortran_order': False, 'shape': (16, 16), }"))
	put("npy-shape-reshaped.npy", hdr("{'descr': '<f2', 'fortran_order': False, 'shape': (32, 4), }")) // size matches; rows differ
	put("npy-shape-3d.npy", hdr("{'descr': '<f2', 'fortran_order': False, 'shape': (16, 8, 1), }"))
	put("npy-shape-1d.npy", hdr("{'descr': '<f2', 'fortran_order': False, 'shape': (128,), }"))
	put("npy-shape-negative.npy", hdr("{'descr': '<f2', 'fortran_order': False, 'shape': (-16, -8), }"))
	put("npy-shape-overflow.npy", npyWithDict(1, "{'descr': '<f2', 'fortran_order': False, 'shape': (1099511627776, 1099511627776), }", nil))
	put("npy-shape-zero-rows-huge-dim.npy", npyWithDict(1, "{'descr': '<f2', 'fortran_order': False, 'shape': (0, 1099511627776), }", nil))
	put("npy-shape-text.npy", hdr("{'descr': '<f2', 'fortran_order': False, 'shape': (sixteen, 8), }"))
	put("npy-dtype-f8.npy", hdr("{'descr': '<f8', 'fortran_order': False, 'shape': (16, 4), }"))
	put("npy-dtype-bigendian.npy", hdr("{'descr': '>f2', 'fortran_order': False, 'shape': (16, 8), }"))
	put("npy-dtype-int32.npy", hdr("{'descr': '<i4', 'fortran_order': False, 'shape': (16, 4), }"))
	put("npy-dtype-object.npy", hdr("{'descr': '|O', 'fortran_order': False, 'shape': (16, 8), }"))
	put("npy-dtype-struct.npy", hdr("{'descr': [('a', '<f2')], 'fortran_order': False, 'shape': (16, 8), }"))
	put("npy-fortran.npy", hdr("{'descr': '<f2', 'fortran_order': True, 'shape': (16, 8), }"))
	put("npy-fortran-bad.npy", hdr("{'descr': '<f2', 'fortran_order': 1, 'shape': (16, 8), }"))
	put("npy-missing-key.npy", hdr("{'descr': '<f2', 'shape': (16, 8), }"))
	put("npy-extra-key.npy", hdr("{'descr': '<f2', 'fortran_order': False, 'shape': (16, 8), 'x': 1, }"))
	put("npy-not-dict.npy", hdr("['<f2', False, (16, 8)]"))
	put("npy-unterminated.npy", hdr("{'descr': '<f2', 'fortran_order': False, 'shape': (16, 8"))
	// Header length fields that lie.
	b := clone(good)
	binary.LittleEndian.PutUint16(b[8:], 200) // into the data
	put("npy-hlen-long.npy", b)
	b = clone(good)
	binary.LittleEndian.PutUint16(b[8:], 40) // cuts the dict
	put("npy-hlen-short.npy", b)
	b = clone(good)
	binary.LittleEndian.PutUint16(b[8:], 0)
	put("npy-hlen-zero.npy", b)
	b = clone(good)
	binary.LittleEndian.PutUint16(b[8:], 0xffff) // beyond the end of the file
	put("npy-hlen-beyond.npy", b)
	put("npy-v2-hlen-huge.npy", append([]byte("\x93NUMPY\x02\x00\xff\xff\xff\xff"), good[10:]...))
	put("npy-version-9.npy", append([]byte("\x93NUMPY\x09\x00"), good[8:]...))
	put("npy-v3.npy", npyWithDict(3, "{'descr': '<f2', 'fortran_order': False, 'shape': (16, 8), }", good[128:])) // valid
	put("npy-truncated-data.npy", good[:len(good)-3])
	put("npy-trailing-data.npy", append(clone(good), 0, 0))

	// Values: float16 specials.
	goodNpy("f16-nan.npy", rows, dim, func(r, c int) (uint16, bool) { return 0x7e00, r == 5 && c == 3 })
	goodNpy("f16-nan-payload.npy", rows, dim, func(r, c int) (uint16, bool) { return 0xfc01, r == 15 && c == 7 })
	goodNpy("f16-inf.npy", rows, dim, func(r, c int) (uint16, bool) { return 0x7c00, r == 9 && c == 0 })
	goodNpy("f16-neginf.npy", rows, dim, func(r, c int) (uint16, bool) { return 0xfc00, r == 0 && c == 1 })
	goodNpy("f16-negzero-row.npy", rows, dim, func(r, c int) (uint16, bool) { return 0x8000, r == 2 })
	goodNpy("f16-subnormal-rows.npy", rows, dim, func(r, c int) (uint16, bool) { return 0x0001 + uint16(c), r%2 == 1 })
	goodNpy("f16-max.npy", rows, dim, func(r, c int) (uint16, bool) { return 0x7bff, r < 4 }) // 65504: norm² overflows float16, not float32
	goodNpy("f16-mixed-sign-max.npy", rows, dim, func(r, c int) (uint16, bool) { return 0x7bff | uint16(c%2)<<15, true })
	f32 := make([]float32, rows*dim)
	for i := range f32 {
		if i%dim == (i/dim)%dim {
			f32[i] = 1
		}
	}
	f32[7*dim+2] = math.Float32frombits(0x7f800001) // signalling NaN
	check(npy.WriteFloat32("f32-snan.npy", f32, dim))
	f32[7*dim+2] = 0
	f32[3*dim] = math.MaxFloat32 // norm² overflows float32
	f32[3*dim+1] = math.MaxFloat32
	check(npy.WriteFloat32("f32-max.npy", f32, dim))
	goodNpy("dim16.npy", rows, 16, nil)
	goodNpy("dim4.npy", rows, 4, nil)
	goodNpy("dim8-zero-rows.npy", 0, dim, nil)
	goodNpy("dim0-zero-rows.npy", 0, 0, nil)
}

// goodNpy writes (or, with an empty name, just returns) a float16 array
// whose row r is the unit vector e_(r mod cols), with set overriding
// elements.
func goodNpy(name string, r, c int, set func(r, c int) (uint16, bool)) []byte {
	h := make([]uint16, r*c)
	for i := range h {
		row, col := i/c, i%c
		if col == row%c {
			h[i] = 0x3c00
		}
		if set != nil {
			if v, ok := set(row, col); ok {
				h[i] = v
			}
		}
	}
	var buf bytes.Buffer
	check(npy.WriteHeader(&buf, npy.Float16, r, c))
	for _, v := range h {
		binary.Write(&buf, binary.LittleEndian, v)
	}
	if name != "" {
		put(name, buf.Bytes())
	}
	return buf.Bytes()
}

// npyWithDict builds an npy file of the given major version with the dict
// padded as numpy pads it, followed by data.
func npyWithDict(major byte, dict string, data []byte) []byte {
	pre := 10
	if major > 1 {
		pre = 12
	}
	total := pre + len(dict) + 1
	dict += strings.Repeat(" ", (64-total%64)%64) + "\n"
	b := []byte("\x93NUMPY")
	b = append(b, major, 0)
	if major > 1 {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(dict)))
	} else {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(dict)))
	}
	return append(append(b, dict...), data...)
}

// lieRows rewrites the footer so that the file and its row group claim n
// rows.
func lieRows(name string, meta []byte, n int64) {
	put(name, editFooter(meta, func(md *format.FileMetaData) {
		md.NumRows = n
		for i := range md.RowGroups {
			md.RowGroups[i].NumRows = n
		}
	}))
}

// editFooter decodes a parquet file's footer, lets edit change it and
// re-encodes it.
func editFooter(meta []byte, edit func(*format.FileMetaData)) []byte {
	fl := int(binary.LittleEndian.Uint32(meta[len(meta)-8:]))
	start := len(meta) - 8 - fl
	var md format.FileMetaData
	check(thrift.Unmarshal(new(thrift.CompactProtocol), meta[start:start+fl], &md))
	edit(&md)
	enc, err := thrift.Marshal(new(thrift.CompactProtocol), &md)
	check(err)
	out := append(clone(meta[:start]), enc...)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(enc)))
	return append(out, "PAR1"...)
}

func writeRows(name string, rs []demodata.Row) ([]byte, error) {
	if err := demodata.WriteParquet(name, "clip-retrieval", rs); err != nil {
		return nil, err
	}
	return os.ReadFile(name)
}

func writeStructs[T any](name string, recs []T) {
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[T](&buf, parquet.Compression(&snappy.Codec{}))
	_, err := w.Write(recs)
	check(err)
	check(w.Close())
	put(name, buf.Bytes())
}

func writeStructsZstd[T any](name string, recs []T) {
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[T](&buf, parquet.Compression(&zstd.Codec{Level: zstd.SpeedBestCompression}),
		parquet.SkipPageBounds("url", "caption", "NSFW"), parquet.SkipPageStatistics("url", "caption", "NSFW"),
		parquet.ColumnIndexSizeLimit(func([]string) int { return 16 }), parquet.DataPageStatistics(false))
	_, err := w.Write(recs)
	check(err)
	check(w.Close())
	// The chunk statistics hold the min and max values uncompressed: drop
	// them so that the file stays small.
	put(name, editFooter(buf.Bytes(), func(md *format.FileMetaData) {
		for i := range md.RowGroups {
			for j := range md.RowGroups[i].Columns {
				md.RowGroups[i].Columns[j].MetaData.Statistics = format.Statistics{}
			}
		}
	}))
}

func flipAt(name string, b []byte, off int) {
	c := clone(b)
	c[off] ^= 0x02
	put(name, c)
}

func put(name string, b []byte) {
	check(os.WriteFile(name, b, 0o644))
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }

func ptr[T any](v T) *T { return &v }

func must(b []byte, err error) []byte {
	check(err)
	return b
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
