package main

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
)

// Mistakes on the command line: every one is a single line on stderr that
// names the flag or argument, and exit code 2.

// flagError turns a pflag parse error into that line's text.
func flagError(c *command, fs *pflag.FlagSet, args []string, err error) string {
	msg := err.Error()
	see := fmt.Sprintf(" (see 'laiondb %s --help')", c.name)
	if m := unknownShort.FindStringSubmatch(msg); m != nil {
		// "-x" or "- a caption": pflag took an argument for flags.
		arg := m[2]
		if notAFlag(arg) {
			return fmt.Sprintf("%q is not a flag: put -- before arguments that begin with '-' (laiondb %s -- %q)", arg, c.name, arg)
		}
		return "unknown flag " + arg + suggest(fs, strings.TrimLeft(arg, "-")) + see
	}
	if m := unknownLong.FindStringSubmatch(msg); m != nil {
		return "unknown flag --" + m[1] + suggest(fs, m[1]) + see
	}
	if m := needsArg.FindStringSubmatch(msg); m != nil {
		return "flag " + m[1] + " needs a value" + see
	}
	if m := badValue.FindStringSubmatch(msg); m != nil {
		why := m[3]
		if i := strings.LastIndex(why, ": "); i >= 0 && strings.HasPrefix(why, "strconv.") {
			why = why[i+2:]
		}
		return fmt.Sprintf("flag %s: bad value %q: %s%s", m[2], m[1], why, see)
	}
	return msg + see
}

var (
	unknownShort = regexp.MustCompile(`^unknown shorthand flag: '(.*)' in (.*)$`)
	unknownLong  = regexp.MustCompile(`^unknown flag: --(.*)$`)
	needsArg     = regexp.MustCompile(`^flag needs an argument: (?:'.' in )?(-.*)$`)
	badValue     = regexp.MustCompile(`^invalid argument "(.*)" for "(.*)" flag: (.*)$`)
)

// notAFlag reports whether an argument that begins with '-' cannot be
// meant as a flag: "-" followed by a space, a digit or punctuation, or
// holding a space.
func notAFlag(arg string) bool {
	if len(arg) < 2 || strings.ContainsAny(arg, " \t") {
		return true
	}
	c := arg[1]
	if c == '-' && len(arg) > 2 {
		c = arg[2]
	}
	return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z')
}

// suggest names the flag of fs nearest to name, when one is near.
func suggest(fs *pflag.FlagSet, name string) string {
	name = strings.SplitN(name, "=", 2)[0]
	best, bestD := "", 3
	fs.VisitAll(func(f *pflag.Flag) {
		d := editDistance(name, f.Name)
		if strings.HasPrefix(f.Name, name) && len(name) >= 3 {
			d = min(d, 1)
		}
		if d < bestD {
			best, bestD = f.Name, d
		}
	})
	if best == "" || bestD > max(1, len(name)/3) {
		return ""
	}
	return " (did you mean --" + best + "?)"
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// printFlags writes a flag set's flags, one a line: the name, the value's
// type (none for booleans), the usage, and the default when it is not
// empty and the usage does not give it already.
func printFlags(w io.Writer, fs *pflag.FlagSet) {
	type line struct{ left, right string }
	var lines []line
	width := 0
	fs.VisitAll(func(f *pflag.Flag) {
		left := "      --" + f.Name
		if f.Shorthand != "" {
			left = "  -" + f.Shorthand + ", --" + f.Name
		}
		typ := f.Value.Type()
		switch typ {
		case "bool":
			typ = ""
		case "stringArray", "stringSlice":
			typ = "string"
		}
		if typ != "" {
			left += " " + typ
		}
		right := f.Usage
		def := f.DefValue
		if def != "" && def != "false" && def != "0" && def != "[]" && !strings.Contains(right, "default") {
			switch f.Value.Type() {
			case "string":
				def = strconv.Quote(def)
			case "stringSlice":
				def = strings.Trim(def, "[]")
			}
			right += " (default " + def + ")"
		}
		lines = append(lines, line{left, right})
		width = max(width, len(left))
	})
	for _, l := range lines {
		fmt.Fprintf(w, "%-*s   %s\n", width, l.left, l.right)
	}
}

// onceString is a string flag that refuses to be given twice.
type onceString struct {
	val  *string
	name string
	set  bool
}

func (o *onceString) String() string { return *o.val }
func (o *onceString) Type() string   { return "string" }
func (o *onceString) Set(v string) error {
	if o.set {
		return fmt.Errorf("--%s given twice (%q and %q): one %s at a time", o.name, *o.val, v, o.name)
	}
	if v == "" && o.name == "store" {
		return errEmptyStore
	}
	o.set, *o.val = true, v
	return nil
}

// errEmptyStore is the error of an empty --store or LAIONDB_STORE.
var errEmptyStore = errors.New("the store path is empty: give --store DIR (or set LAIONDB_STORE)")

// parseShard parses --shard K/M: the K-th of M shards, from 1.
func parseShard(s string) (k, m int, err error) {
	if n, err := fmt.Sscanf(s, "%d/%d", &k, &m); n != 2 || err != nil || k < 1 || k > m || s != fmt.Sprintf("%d/%d", k, m) {
		return 0, 0, usageErrorf("--shard %s: want K/M with 1 <= K <= M, e.g. 3/17", s)
	}
	return k, m, nil
}

// partialShard checks that a shard's output file (flag: --partial,
// --target-out) and --shard come together and parses the shard: 0, 0
// when neither is given.
func partialShard(flag, partial, shard string) (k, m int, err error) {
	switch {
	case partial != "" && shard == "":
		return 0, 0, usageErrorf("%s needs --shard K/M: which of the dataset's shards the store holds", flag)
	case partial == "" && shard != "":
		return 0, 0, usageErrorf("--shard says which shard a %s file is of: give %s FILE too", flag, flag)
	case partial == "":
		return 0, 0, nil
	}
	return parseShard(shard)
}
