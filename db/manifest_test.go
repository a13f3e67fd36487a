package db

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/laiondb/laiondb/demodata"
	"github.com/laiondb/laiondb/table"
)

// TestManifestColumnType checks that column types are written by name and
// read by name or, as older manifests wrote them, by number.
func TestManifestColumnType(t *testing.T) {
	for _, typ := range []table.Type{table.TypeString, table.TypeInt, table.TypeFloat, table.TypeBool} {
		b, err := json.Marshal(ManifestColumn{ID: 3, Name: "c", Type: typ})
		if err != nil {
			t.Fatal(err)
		}
		if want := `{"id":3,"name":"c","type":"` + typ.String() + `"}`; string(b) != want {
			t.Errorf("%v: %s, want %s", typ, b, want)
		}
		for _, in := range []string{string(b), `{"id":3,"name":"c","type":` + strconv.Itoa(int(typ)) + `}`} {
			var c ManifestColumn
			if err := json.Unmarshal([]byte(in), &c); err != nil || c != (ManifestColumn{ID: 3, Name: "c", Type: typ}) {
				t.Errorf("%s: %+v, %v", in, c, err)
			}
		}
	}
	for _, in := range []string{`{"name":"c","type":"unknown"}`, `{"name":"c","type":"Int"}`, `{"name":"c","type":1.5}`, `{"name":"c","type":300}`} {
		var c ManifestColumn
		if err := json.Unmarshal([]byte(in), &c); err == nil {
			t.Errorf("%s: no error, %+v", in, c)
		}
	}
}

// legacyColumns are the columns of testdata/manifest-int-types, a manifest
// written by the writer that stored types as numbers.
var legacyColumns = []ManifestColumn{
	{0, "sample_id", table.TypeInt}, {1, "url", table.TypeString}, {2, "text", table.TypeString},
	{3, "height", table.TypeInt}, {4, "width", table.TypeInt}, {5, "license", table.TypeString},
	{6, "nsfw", table.TypeString}, {7, "similarity", table.TypeFloat},
}

// TestManifestIntTypes reads a manifest whose column types are numbers,
// then writes it again: with the types by name.
func TestManifestIntTypes(t *testing.T) {
	m, err := readManifest(filepath.Join("testdata", "manifest-int-types"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m.Columns, legacyColumns) {
		t.Errorf("columns = %v, want %v", m.Columns, legacyColumns)
	}
	dir := t.TempDir()
	if err := writeManifest(dir, m); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, manifestName))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"name": "sample_id",
      "type": "int"`) || regexp.MustCompile(`"type": \d`).Match(b) {
		t.Errorf("rewritten manifest does not name its types:\n%s", b)
	}
	m2, err := readManifest(dir)
	if err != nil || !slices.Equal(m2.Columns, legacyColumns) {
		t.Errorf("read back: %v, %v", m2, err)
	}
}

// TestOpenIntTypes opens a store whose manifest has its column types as
// numbers and queries it.
func TestOpenIntTypes(t *testing.T) {
	tmp := t.TempDir()
	if _, _, err := demodata.LAION400M(filepath.Join(tmp, "parts"), demodata.Config{Seed: 4, Parts: 1, Rows: 200}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(tmp, "store")
	d := openTest(t, dir)
	ingestPaths(t, d, filepath.Join(tmp, "parts"))
	want, err := d.Query(context.Background(), "all where width > 300 and similarity >= 0.3 by license", nil)
	if err != nil {
		t.Fatal(err)
	}
	d.Close()

	// Rewrite the manifest as the older writer did, numbers for types.
	path := filepath.Join(dir, manifestName)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b = regexp.MustCompile(`"type": "(\w+)"`).ReplaceAllFunc(b, func(m []byte) []byte {
		typ, ok := columnType(strings.Split(string(m), `"`)[3])
		if !ok {
			t.Fatalf("%s", m)
		}
		return []byte(`"type": ` + strconv.Itoa(int(typ)))
	})
	loc := checksumField.FindSubmatchIndex(b)
	copy(b[loc[2]:loc[3]], zeroSum)
	sum := sha256.Sum256(b)
	copy(b[loc[2]:loc[3]], hex.EncodeToString(sum[:]))
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"type": 2`) {
		t.Fatalf("not a manifest with numbered types:\n%s", b)
	}

	d2, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	m, _ := d2.Manifest()
	if c := m.column("width"); c == nil || c.Type != table.TypeInt {
		t.Errorf("width: %+v", c)
	}
	if c := m.column("similarity"); c == nil || c.Type != table.TypeFloat {
		t.Errorf("similarity: %+v", c)
	}
	got, err := d2.Query(context.Background(), "all where width > 300 and similarity >= 0.3 by license", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Selected != want.Selected || got.Selected == 0 || got.Fingerprint != want.Fingerprint {
		t.Errorf("selected %d (fingerprint %s), want %d (%s)", got.Selected, got.Fingerprint, want.Selected, want.Fingerprint)
	}
}
