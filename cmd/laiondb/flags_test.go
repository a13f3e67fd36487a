package main

import (
	"bytes"
	"sort"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// TestFlagMistakes runs every command with every kind of mistake: each
// exits 2, prints nothing on stdout and one line on stderr that names the
// flag or the argument; --help prints the usage on stdout and exits 0.
func TestFlagMistakes(t *testing.T) {
	var names []string
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		c := commands[name]
		fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
		if c.flags != nil {
			c.flags(fs)
		}
		var valued, intFlag string
		fs.VisitAll(func(f *pflag.Flag) {
			switch f.Value.Type() {
			case "bool":
			case "int":
				if intFlag == "" {
					intFlag = f.Name
				}
				fallthrough
			default:
				if valued == "" {
					valued = f.Name
				}
			}
		})
		type mistake struct {
			args []string
			want string // in the line
		}
		ms := []mistake{
			{[]string{name, "--bogus"}, "unknown flag --bogus"},
			{[]string{name, "-x"}, "unknown flag -x"},
			{[]string{name, "- a caption"}, `"- a caption" is not a flag: put -- before`},
		}
		if valued != "" {
			ms = append(ms, mistake{[]string{name, "--" + valued}, "flag --" + valued + " needs a value"})
			if len(valued) > 3 {
				ms = append(ms, mistake{[]string{name, "--" + valued[:len(valued)-1] + "x", "v"}, "did you mean --" + valued + "?"})
			}
		}
		if intFlag != "" {
			ms = append(ms, mistake{[]string{name, "--" + intFlag, "abc"}, `flag --` + intFlag + `: bad value "abc"`})
		}
		if fs.Lookup("store") != nil {
			ms = append(ms, mistake{[]string{name, "--store", ""}, "the store path is empty"})
			if _, many := fs.Lookup("store").Value.(*manyStores); !many && name != "serve" { // serve serves several stores; the others take several as one
				ms = append(ms, mistake{[]string{name, "--store", "a", "--store", "b"}, "--store given twice"})
			}
		}
		for _, m := range ms {
			var o, e bytes.Buffer
			code := run(&env{stdin: strings.NewReader(""), stdout: &o, stderr: &e}, m.args)
			lines := strings.Split(strings.TrimRight(e.String(), "\n"), "\n")
			if code != 2 || o.Len() != 0 || len(lines) != 1 || !strings.Contains(lines[0], m.want) || !strings.HasPrefix(lines[0], "laiondb "+name+": ") {
				t.Errorf("laiondb %q: exit %d, stdout %q, stderr %q; want 2, nothing, one line with %q", m.args, code, o.String(), e.String(), m.want)
			}
		}
		var o, e bytes.Buffer
		if code := run(&env{stdout: &o, stderr: &e}, []string{name, "--help"}); code != 0 || e.Len() != 0 || !strings.HasPrefix(o.String(), "usage: laiondb "+name) {
			t.Errorf("laiondb %s --help: exit %d, stdout %q, stderr %q", name, code, o.String(), e.String())
		}
		if strings.Contains(o.String(), "[=true|false]") {
			t.Errorf("laiondb %s --help shows booleans as [=true|false]", name)
		}
	}
}

// TestTokenizeStdin: with -, tokenize reads one text a line from stdin, and
// a text that begins with '-' passes after --.
func TestTokenizeStdin(t *testing.T) {
	vocab := clipVocab(t)
	var o, e bytes.Buffer
	in := strings.NewReader("- Optical Mirror Mount | Optical Mirror Mount 2.0 Inches\r\nbeautiful\n")
	if code := run(&env{stdin: in, stdout: &o, stderr: &e}, []string{"tokenize", "--vocab", vocab, "-"}); code != 0 {
		t.Fatalf("exit %d: %s", code, e.String())
	}
	lines := strings.Split(strings.TrimSpace(o.String()), "\n")
	if len(lines) != 2 || lines[1] != "49406 1215 49407" || !strings.HasPrefix(lines[0], "49406 268 ") {
		t.Errorf("output %q", o.String())
	}
	code, out, errs := runCmd(t, "tokenize", "--vocab", vocab, "--", "- Optical Mirror Mount | Optical Mirror Mount 2.0 Inches")
	if code != 0 || strings.TrimSpace(out) != lines[0] {
		t.Errorf("after --: exit %d, %q %s; want %q", code, out, errs, lines[0])
	}
}

// TestIngestQuiet: --quiet prints nothing on success.
func TestIngestQuiet(t *testing.T) {
	tmp, _ := testStore(t)
	code, out, errs := runCmd(t, "ingest", "--quiet", "--store", tmp+"/q", tmp+"/meta")
	if code != 0 || out != "" || errs != "" {
		t.Errorf("ingest --quiet: exit %d, stdout %q, stderr %q", code, out, errs)
	}
}
