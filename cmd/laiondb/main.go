// Command laiondb audits web-scale image–text datasets (LAION-400M,
// LAION-5B) offline: ingest their parquet metadata and CLIP embeddings into a
// store, then query it with k-NN, text and NSFW-label predicates to get exact
// contamination statistics.
//
// Each subcommand lives in a file of its own and registers itself with
// register; this file only dispatches.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/laiondb/laiondb/encode"
	"github.com/laiondb/laiondb/query"
	"github.com/spf13/pflag"
)

// command is one subcommand. run gets the arguments after the subcommand
// name and writes its output to stdout.
type command struct {
	name    string
	summary string
	// usage is the argument synopsis printed after the name.
	usage string
	// flags declares the command's flags on fs.
	flags func(fs *pflag.FlagSet)
	run   func(env *env, fs *pflag.FlagSet) error
}

// env is what a command runs with; tests substitute the streams.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	// isTerminal reports whether stderr is a terminal (progress bars).
	isTerminal bool
}

var commands = map[string]*command{}

func register(c *command) { commands[c.name] = c }

// errUsage marks an error whose message is a usage mistake.
var errUsage = errors.New("usage")

func main() {
	e := &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, isTerminal: isTerminal(os.Stderr)}
	os.Exit(run(e, os.Args[1:]))
}

// run dispatches args to a subcommand and returns the exit code.
func run(e *env, args []string) int {
	if len(args) >= 2 && args[0] == "help" {
		return help(e, args[1])
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(e.stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "laiondb: unknown command %q\n\n", args[0])
		usage(e.stderr)
		return 2
	}
	fs := pflag.NewFlagSet("laiondb "+c.name, pflag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.SortFlags = false
	if c.flags != nil {
		c.flags(fs)
	}
	printUsage := func(w io.Writer) {
		fmt.Fprintf(w, "usage: laiondb %s %s\n\n%s\n\n", c.name, c.usage, c.summary)
		printFlags(w, fs)
	}
	fs.Usage = func() {} // pflag's own printing is replaced by the lines below
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			printUsage(e.stdout)
			return 0
		}
		fmt.Fprintf(e.stderr, "laiondb %s: %s\n", c.name, flagError(c, fs, args[1:], err))
		return 2
	}
	if err := c.run(e, fs); err != nil {
		if errors.Is(err, errUsage) {
			fmt.Fprintf(e.stderr, "laiondb %s: %s (see 'laiondb %s --help')\n", c.name, strings.TrimPrefix(err.Error(), "usage: "), c.name)
			return 2
		}
		// One line names the command; an error that names it again (the
		// query package's "query: ...") is not prefixed twice.
		fmt.Fprintf(e.stderr, "laiondb %s: %s\n", c.name, strings.TrimPrefix(err.Error(), c.name+": "))
		return 1
	}
	return 0
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "laiondb audits image–text datasets offline.\n\nusage: laiondb COMMAND [flags] [args]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'laiondb COMMAND --help' for a command's flags, 'laiondb help query' for the query\nlanguage and 'laiondb help models' for exporting a CLIP model.\n\n"+
		"Exit codes: 0 success, 1 a failure while running, 2 a usage mistake (an unknown command or\n"+
		"flag, a missing or malformed value, a wrong number of arguments).")
}

// writeJSON writes v as one indented JSON document.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// keyColumns normalises a --key list: lower case, spaces trimmed.
func keyColumns(key []string) []string {
	out := make([]string, len(key))
	for i, k := range key {
		out[i] = strings.ToLower(strings.TrimSpace(k))
	}
	return out
}

// usageErrorf returns an error that prints the command's usage.
func usageErrorf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errUsage}, args...)...)
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// help prints a topic: the query language's manual, how to export a model,
// or a command's usage.
func help(e *env, topic string) int {
	switch topic {
	case "query":
		fmt.Fprint(e.stdout, query.Manual())
		return 0
	case "models", "model":
		fmt.Fprint(e.stdout, encode.ModelHelp())
		return 0
	}
	if _, ok := commands[topic]; ok {
		return run(e, []string{topic, "--help"})
	}
	fmt.Fprintf(e.stderr, "laiondb help: no topic %q (topics: query, models, or a command)\n", topic)
	return 2
}
