// Package chrome runs headless Chromium for the tests that render pages
// (the audit report, the server's page): Debian's chromium, which
// scripts/install-chromium.sh installs.
package chrome

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// Find returns the path of a Chromium binary, or "" when there is none.
func Find() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Run runs bin headless on url with a fresh profile under dir, no proxy
// beyond loopback (so nothing leaves the machine), the window size given
// and the extra flags, and returns what it printed on stdout.
//
// Chromium that dies of a signal (it has segfaulted at start-up on a
// loaded CI machine, before loading anything) is run again, up to three
// times in all, each with a profile of its own; an exit with a status, a
// time-out, or a third crash is an error, with the end of what it printed
// on stderr.
func Run(bin, dir, url string, width, height int, flags ...string) ([]byte, error) {
	var err error
	for try := 1; try <= 3; try++ {
		var out []byte
		var crashed bool
		out, crashed, err = run(bin, filepath.Join(dir, fmt.Sprintf("profile%d", try)), url, width, height, flags)
		if err == nil || !crashed {
			return out, err
		}
	}
	return nil, err
}

func run(bin, profile, url string, width, height int, flags []string) (out []byte, crashed bool, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
		"--user-data-dir=" + profile, "--proxy-server=127.0.0.1:9",
		fmt.Sprintf("--window-size=%d,%d", width, height)}, flags...)
	cmd := exec.CommandContext(ctx, bin, append(args, url)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err = cmd.Output()
	if err != nil {
		tail := stderr.Bytes()
		if len(tail) > 2000 {
			tail = tail[len(tail)-2000:]
		}
		var exit *exec.ExitError
		crashed = ctx.Err() == nil && errors.As(err, &exit) && exit.ProcessState != nil && !exit.Exited()
		return nil, crashed, fmt.Errorf("chromium: %w\n%s", err, tail)
	}
	return out, false, nil
}

// Screenshot renders url into dir/name.png and returns the image.
func Screenshot(bin, dir, url, name string, width, height int, flags ...string) (image.Image, error) {
	shot := filepath.Join(dir, name+".png")
	if _, err := Run(bin, dir, url, width, height, append(flags, "--screenshot="+shot)...); err != nil {
		return nil, err
	}
	f, err := os.Open(shot)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return png.Decode(f)
}

// Count returns how many pixels of img have exactly the colour rgb.
func Count(img image.Image, rgb [3]uint8) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if uint8(r>>8) == rgb[0] && uint8(g>>8) == rgb[1] && uint8(bl>>8) == rgb[2] {
				n++
			}
		}
	}
	return n
}
