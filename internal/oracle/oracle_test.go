package oracle

import (
	"errors"
	"os"
	"regexp"
	"testing"
)

func needOracle(t *testing.T) *Oracle {
	o, err := Shared()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skipf("skipping (scripts/install-oracle.sh installs what the oracle needs): %v", err)
	}
	return o
}

// TestRegexEmulation checks the oracle's RE2 emulation (matches) against
// Go's regexp, which query/doc.go names as the semantics, on the patterns
// the generator makes and on text with the awkward characters of the
// generated rows: a difference here is a bug of the test kit, not of
// laiondb.
func TestRegexEmulation(t *testing.T) {
	o := needOracle(t)
	texts := append([]string{}, words...)
	texts = append(texts, "", "x\n", "a\nb", "hot dog\n", "KELVIN \u212a", "ſs", "İstanbul ıi", "ΟΔΟΣ οδος ς", "ẞß", "1e+308",
		"6016.0", "-inf", "nan", "0.30000001192092896", "Ää", "é É", "desi_2 desi-2", "_")
	r := NewRand(11)
	for i := 0; i < 200; i++ {
		texts = append(texts, genText(r))
	}
	var invalid, matched, folded int
	for i := 0; i < 2000; i++ {
		p := GenRegex(r)
		re, goErr := regexp.Compile(p)
		got, pyErr, err := o.Regex(p, texts)
		if errors.Is(err, ErrUnsupported) {
			t.Errorf("pattern %q: %v", p, err)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if (goErr != nil) != (pyErr != "") {
			t.Errorf("pattern %q: Go error %v, oracle error %q", p, goErr, pyErr)
			continue
		}
		if goErr != nil {
			invalid++
			continue
		}
		if len(p) > 4 && p[:4] == "(?i)" {
			folded++
		}
		for j, s := range texts {
			if got[j] {
				matched++
			}
			if re.MatchString(s) != got[j] {
				t.Errorf("pattern %q on %q: Go %v, oracle %v", p, s, re.MatchString(s), got[j])
				break
			}
		}
	}
	t.Logf("2000 patterns (%d invalid, %d with (?i)) on %d texts: %d matches", invalid, folded, len(texts), matched)
}
