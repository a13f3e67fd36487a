package engine

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// The answers are Python 3.11's urllib.parse.urlsplit(u).hostname.
func TestURLHost(t *testing.T) {
	for _, c := range []struct {
		url, host string
		ok        bool
	}{
		{"https://img.Example.COM/a/b.jpg", "img.example.com", true},
		{"http://user:pw@cdn.shop.com:8080/x?y#z", "cdn.shop.com", true},
		{"HTTPS://WWW.DESI.IN", "www.desi.in", true},
		{"//no-scheme.org/p", "no-scheme.org", true},
		{"  \thttps://x.org", "x.org", true},
		{"https://x.\norg/a", "x.org", true},
		{"http://[2001:DB8::1]:80/", "2001:db8::1", true},
		{"http://[fe80::1%EthZ]/", "fe80::1%EthZ", true},
		{"https://a@b@host.net/", "host.net", true},
		{"https://host.net?q=//x", "host.net", true},
		{"https://ΣΟΦΙΑ.gr/", "σοφια.gr", true},
		{"img.example.com/a.jpg", "", false},
		{"https:///path", "", false},
		{"mailto:someone@x.org", "", false},
		{"", "", false},
		{"1http://x.org", "", false}, // a scheme starts with a letter: no scheme, no //
		{"ht~tp://x.org", "", false},
		{"https://:8080/", "", false},
	} {
		h, ok := urlHost([]byte(c.url), nil)
		if ok != c.ok || string(h) != c.host {
			t.Errorf("urlHost(%q) = %q, %v; want %q, %v", c.url, h, ok, c.host, c.ok)
		}
	}
}

// TestURLHostPython compares urlHost with Python's urlsplit on generated
// URLs, where /usr/bin/python3 is present.
func TestURLHostPython(t *testing.T) {
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		t.Skip("no /usr/bin/python3")
	}
	parts := []string{"http", "HTTPS", "ftp", "h2", "1x", "a+b.c-d", ":", "://", "//", "/", "@", "u:p@", "[", "]", "::1", "%Z",
		"Host", "ÉX", "Σ", ".", "?", "#", ":80", " ", "\t", "x", "org", "ΟΔΟΣ"}
	r := rand.New(rand.NewPCG(3, 4))
	var urls []string
	for range 3000 {
		var b strings.Builder
		for range 1 + r.IntN(9) {
			b.WriteString(parts[r.IntN(len(parts))])
		}
		urls = append(urls, b.String())
	}
	in, _ := json.Marshal(urls)
	cmd := exec.Command(py, "-c", `
import json, sys
from urllib.parse import urlsplit
out = []
for u in json.load(sys.stdin):
    try:
        out.append(urlsplit(u).hostname)
    except ValueError:
        out.append("<ValueError>")
json.dump(out, sys.stdout)
`)
	cmd.Stdin = bytes.NewReader(in)
	got, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	var want []*string
	if err := json.Unmarshal(got, &want); err != nil {
		t.Fatal(err)
	}
	n := 0
	for i, u := range urls {
		if want[i] != nil && *want[i] == "<ValueError>" {
			continue // Python refuses the URL; laiondb counts a host (documented)
		}
		h, ok := urlHost([]byte(u), nil)
		if ok != (want[i] != nil) || ok && string(h) != *want[i] {
			t.Errorf("urlHost(%q) = %q %v, Python %v", u, h, ok, deref(want[i]))
			if n++; n > 10 {
				t.FailNow()
			}
		}
	}
}

func deref(p *string) string {
	if p == nil {
		return "None"
	}
	return *p
}
