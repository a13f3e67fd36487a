package server_test

import (
	"encoding/json"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/laiondb/laiondb/internal/chrome"
)

// TestPageInBrowser loads the audit page in headless Chromium (Debian's;
// scripts/install-chromium.sh installs it) from a permalink, lets it run
// the query, and checks that the count it shows equals the JSON API's,
// that its charts drew (a screenshot holds the bars' colour), and that it
// loaded no image. It skips where Chromium is absent.
func TestPageInBrowser(t *testing.T) {
	bin := chrome.Find()
	if bin == "" {
		t.Skip("no Chromium (scripts/install-chromium.sh installs Debian's)")
	}
	f := newFixture(t, nil)
	q := "all where text contains 'a' by nsfw"
	_, b, _ := f.do("POST", "/api/query", `{"query": "`+q+`"}`)
	var want struct{ Selected int }
	if err := json.Unmarshal(b, &want); err != nil || want.Selected == 0 {
		t.Fatalf("api: %v %s", err, b)
	}
	page := f.hs.URL + "/#" + url.Values{"q": {q}, "index": {"demo"}}.Encode()
	dir := t.TempDir()
	dom, err := chrome.Run(bin, dir, page, 900, 1400, "--virtual-time-budget=10000", "--dump-dom")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`data-testid="selected">(\d+)<`).FindStringSubmatch(string(dom))
	if m == nil {
		t.Fatalf("the page shows no count:\n%.3000s", dom)
	}
	if n, _ := strconv.Atoi(m[1]); n != want.Selected {
		t.Errorf("the page shows %d selected, the API %d", n, want.Selected)
	}
	if !strings.Contains(string(dom), "<svg") || strings.Contains(string(dom), "<img") {
		t.Errorf("want charts and no image in the page before a click")
	}
	img, err := chrome.Screenshot(bin, dir, page, "page", 900, 1400, "--virtual-time-budget=10000")
	if err != nil {
		t.Fatal(err)
	}
	if n := chrome.Count(img, [3]uint8{0x3b, 0x6e, 0xa8}); n < 200 { // the bars' fill
		t.Errorf("%d pixels of bar colour in the screenshot: the charts did not draw", n)
	}
}
