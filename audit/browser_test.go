package audit_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/laiondb/laiondb/audit"
	"github.com/laiondb/laiondb/internal/chrome"
)

// TestReportInBrowser renders report.html in headless Chromium (Debian's
// chromium; scripts/install-chromium.sh installs it) with no network and
// checks that the charts drew: the screenshot holds the colours of the
// label bars. It skips where Chromium is absent.
func TestReportInBrowser(t *testing.T) {
	bin := chrome.Find()
	if bin == "" {
		t.Skip("no Chromium (scripts/install-chromium.sh installs Debian's)")
	}
	terms := []string{"desi", "beautiful", "hot"}
	s := newStore(t, terms)
	rep, err := audit.Run(context.Background(), &store{s: s}, &audit.Options{Terms: terms, K: 40})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := rep.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	img, err := chrome.Screenshot(bin, dir, "file://"+filepath.Join(dir, "report.html"), "report", 900, 1200)
	if err != nil {
		t.Fatal(err)
	}
	// #4c9a5b (UNLIKELY) and #c0392b (NSFW), the bars' fills.
	for _, c := range [][3]uint8{{0x4c, 0x9a, 0x5b}, {0xc0, 0x39, 0x2b}} {
		if n := chrome.Count(img, c); n < 200 {
			t.Errorf("colour %x: %d pixels in the screenshot, want a drawn chart", c, n)
		}
	}
}
