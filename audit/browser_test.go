package audit_test

import (
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/laiondb/laiondb/audit"
)

// TestReportInBrowser renders report.html in headless Chromium (Debian's
// chromium; scripts/install-chromium.sh installs it) with no network and
// checks that the charts drew: the screenshot holds the colours of the
// label bars. It skips where Chromium is absent.
func TestReportInBrowser(t *testing.T) {
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
	shot := filepath.Join(dir, "report.png")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--proxy-server=127.0.0.1:9", // no network
		"--screenshot="+shot, "--window-size=900,1200", "file://"+filepath.Join(dir, "report.html"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	// #4c9a5b (UNLIKELY) and #c0392b (NSFW), the bars' fills.
	want := map[[3]uint8]int{{0x4c, 0x9a, 0x5b}: 0, {0xc0, 0x39, 0x2b}: 0}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			k := [3]uint8{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8)}
			if _, ok := want[k]; ok {
				want[k]++
			}
		}
	}
	for c, n := range want {
		if n < 200 {
			t.Errorf("colour %x: %d pixels in the screenshot, want a drawn chart", c, n)
		}
	}
	t.Logf("rendered %s: %dx%d", shot, b.Dx(), b.Dy())
}
