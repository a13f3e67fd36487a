package server_test

import (
	"context"
	"encoding/json"
	"image/png"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestPageInBrowser loads the audit page in headless Chromium (Debian's;
// scripts/install-chromium.sh installs it) from a permalink, lets it run
// the query, and checks that the count it shows equals the JSON API's,
// that its charts drew (a screenshot holds the bars' colour), and that it
// loaded no image. It skips where Chromium is absent.
func TestPageInBrowser(t *testing.T) {
	bin := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
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
	chrome := func(args ...string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--user-data-dir=" + filepath.Join(dir, "profile"),
			"--virtual-time-budget=10000", "--window-size=900,1400"}
		out, err := exec.CommandContext(ctx, bin, append(append(base, args...), page)...).Output()
		if err != nil {
			t.Fatalf("chromium: %v", err)
		}
		return string(out)
	}
	dom := chrome("--dump-dom")
	m := regexp.MustCompile(`data-testid="selected">(\d+)<`).FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("the page shows no count:\n%.3000s", dom)
	}
	if n, _ := strconv.Atoi(m[1]); n != want.Selected {
		t.Errorf("the page shows %d selected, the API %d", n, want.Selected)
	}
	if !strings.Contains(dom, "<svg") || strings.Contains(dom, "<img") {
		t.Errorf("want charts and no image in the page before a click")
	}
	shot := filepath.Join(dir, "page.png")
	chrome("--screenshot=" + shot)
	fh, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	img, err := png.Decode(fh)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	bd := img.Bounds()
	for y := bd.Min.Y; y < bd.Max.Y; y++ {
		for x := bd.Min.X; x < bd.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r>>8 == 0x3b && g>>8 == 0x6e && bl>>8 == 0xa8 { // the bars' fill, #3b6ea8
				n++
			}
		}
	}
	if n < 200 {
		t.Errorf("%d pixels of bar colour in the screenshot: the charts did not draw", n)
	}
}
