package oracle

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/laiondb/laiondb/engine"
)

// Python is the interpreter the oracle runs under: Debian's, with
// python3-pandas and python3-numpy (scripts/install-oracle.sh).
const Python = "/usr/bin/python3"

// Script returns the path of oracle.py (next to this file).
func Script() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "oracle.py")
}

// Available reports why the oracle cannot run (Python cannot import pandas
// and numpy, say), or nil. It starts the shared oracle.
func Available() error {
	_, err := Shared()
	return err
}

// Oracle is a running oracle.py, fed one request a line. It is safe for
// concurrent use (requests are serialised).
type Oracle struct {
	mu     sync.Mutex
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Reader
	loaded map[string]bool
	stderr *strings.Builder
}

// Start starts oracle.py and waits until it has imported pandas and numpy.
func Start() (*Oracle, error) {
	cmd := exec.Command(Python, "-u", Script())
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	o := &Oracle{cmd: cmd, in: in, out: bufio.NewReaderSize(out, 1<<20), loaded: map[string]bool{}, stderr: &strings.Builder{}}
	cmd.Stderr = &lockedWriter{w: o.stderr}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("oracle: starting %s: %w", Python, err)
	}
	var ready struct{ Ready bool }
	line, err := o.out.ReadBytes('\n')
	if err == nil {
		err = json.Unmarshal(line, &ready)
	}
	if err != nil || !ready.Ready {
		in.Close()
		cmd.Wait()
		return nil, fmt.Errorf("oracle: %s %s did not start (%v): %s", Python, Script(), err, strings.TrimSpace(o.stderr.String()))
	}
	return o, nil
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

var shared struct {
	once sync.Once
	o    *Oracle
	err  error
}

// Shared returns the process's oracle, started on first use: one Python
// process serves every test and fuzz input of a test binary.
func Shared() (*Oracle, error) {
	shared.once.Do(func() { shared.o, shared.err = Start() })
	return shared.o, shared.err
}

// Close stops the oracle.
func (o *Oracle) Close() error {
	o.in.Close()
	return o.cmd.Wait()
}

// Timeout bounds the oracle's time for one request; past it the process
// is killed (a Python regular expression gone exponential, say).
var Timeout = 60 * time.Second

func (o *Oracle) roundTrip(req []byte, ans any) error {
	timer := time.AfterFunc(Timeout, func() { o.cmd.Process.Kill() })
	defer timer.Stop()
	if _, err := o.in.Write(append(req, '\n')); err != nil {
		return fmt.Errorf("oracle: writing request: %w (stderr: %s)", err, o.stderr.String())
	}
	line, err := o.out.ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("oracle: reading the answer to %.500s: %w (stderr: %s)", req, err, o.stderr.String())
	}
	var status struct {
		Unsupported string `json:"unsupported"`
		Crash       string `json:"crash"`
		Trace       string `json:"trace"`
	}
	if err := json.Unmarshal(line, &status); err != nil {
		return fmt.Errorf("oracle: bad answer %q: %w", line, err)
	}
	if status.Unsupported != "" {
		return fmt.Errorf("%w: %s", ErrUnsupported, status.Unsupported)
	}
	if status.Crash != "" {
		return fmt.Errorf("oracle crashed: %s\n%s", status.Crash, status.Trace)
	}
	return json.Unmarshal(line, ans)
}

// ErrUnsupported marks a request the oracle cannot judge: a bug of the
// generator, not of laiondb.
var ErrUnsupported = errors.New("oracle: unsupported")

// Load sends the dataset to the oracle, once.
func (o *Oracle) Load(ds *Dataset) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.loaded[ds.Name] {
		return nil
	}
	req, err := ds.LoadRequest()
	if err != nil {
		return err
	}
	var ans struct{ OK bool }
	if err := o.roundTrip(req, &ans); err != nil {
		return err
	}
	o.loaded[ds.Name] = true
	return nil
}

// Answer is the oracle's answer to a query.
type Answer struct {
	Error *string `json:"error"`
	// ErrorClass classifies Error: keyword-as-column, has-word-empty,
	// type, regex, target-row...
	ErrorClass string `json:"error_class"`
	TotalRows  int    `json:"total_rows"`
	Selected   int    `json:"selected"`
	// Rows are the selected rows: in store order for all, best first for
	// searches, with Scores (cosines).
	Rows   []uint32  `json:"rows"`
	Scores []float64 `json:"scores"`
	Search *struct {
		Kind      string  `json:"kind"`
		K         int     `json:"k"`
		Threshold float64 `json:"threshold"`
		Returned  int     `json:"returned"`
		ScoreMin  float64 `json:"score_min"`
		ScoreMax  float64 `json:"score_max"`
	} `json:"search"`
	NSFW []Label `json:"nsfw"`
	// Files are the rates by file (by file), nil without.
	Files *struct {
		Files []struct {
			Rows int  `json:"rows"`
			Rate Prop `json:"rate"`
		} `json:"files"`
		Pooled Prop `json:"pooled"`
	} `json:"files"`
	By []struct {
		Column string  `json:"column"`
		Values []Label `json:"values"`
	} `json:"by"`
	Lexicons []struct {
		Name       string   `json:"name"`
		Keywords   []string `json:"keywords"`
		Text       *Prop    `json:"text"`
		URL        *Prop    `json:"url"`
		Either     Prop     `json:"either"`
		PerKeyword []struct {
			Keyword string `json:"keyword"`
			Text    int    `json:"text"`
			URL     int    `json:"url"`
			Either  int    `json:"either"`
		} `json:"per_keyword"`
		ByNSFW []struct {
			NSFW    *string `json:"nsfw"`
			Null    bool    `json:"null"`
			Rows    int     `json:"rows"`
			Flagged int     `json:"flagged"`
			Share   float64 `json:"share"`
		} `json:"by_nsfw"`
	} `json:"lexicons"`
	Similarity *struct {
		Valid       int     `json:"valid"`
		Min         float64 `json:"min"`
		Q1          float64 `json:"q1"`
		Median      float64 `json:"median"`
		Q3          float64 `json:"q3"`
		Max         float64 `json:"max"`
		Below03     int     `json:"below_0_3"`
		Invalid     int     `json:"invalid"`
		Null        int     `json:"null"`
		NaN         int     `json:"nan"`
		Above1      int     `json:"above_1"`
		BelowMinus1 int     `json:"below_minus_1"`
	} `json:"similarity"`
	// SearchProblems are what is wrong with the store's search list, when
	// it was given.
	SearchProblems []struct {
		Kind string `json:"kind"`
		Msg  string `json:"msg"`
	} `json:"search_problems"`

	raw json.RawMessage
}

// Label is one value count.
type Label struct {
	Value *string `json:"value"`
	Null  bool    `json:"null"`
	Count int     `json:"count"`
	Share float64 `json:"share"`
}

// Prop is a count with its share and Wilson interval.
type Prop struct {
	Count int     `json:"count"`
	Of    int     `json:"of"`
	Share float64 `json:"share"`
	Lo    float64 `json:"lo"`
	Hi    float64 `json:"hi"`
}

// Raw returns the answer as the oracle wrote it.
func (a *Answer) Raw() string { return string(a.raw) }

// Query asks the oracle for the answer to q on ds. observed, when not nil,
// is the store's search list for the query's source and where (the hits of
// q.Aux()), which the oracle checks and uses.
func (o *Oracle) Query(ds *Dataset, q *Query, observed []engine.Hit) (*Answer, error) {
	if err := o.Load(ds); err != nil {
		return nil, err
	}
	req := struct {
		Op       string          `json:"op"`
		Dataset  string          `json:"dataset"`
		Query    json.RawMessage `json:"query"`
		Observed any             `json:"observed"`
	}{Op: "query", Dataset: ds.Name, Query: q.JSON()}
	if observed != nil {
		obs := [][2]float64{}
		for _, h := range observed {
			obs = append(obs, [2]float64{float64(h.Row), float64(h.Score)})
		}
		req.Observed = obs
	}
	b, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	var raw json.RawMessage
	if err := o.roundTrip(b, &raw); err != nil {
		return nil, err
	}
	a := &Answer{raw: raw}
	if err := json.Unmarshal(raw, a); err != nil {
		return nil, err
	}
	return a, nil
}

// Regex asks the oracle's RE2 emulation whether pattern matches each text;
// a nil slice and a non-empty message when the oracle says the pattern is
// not valid RE2.
func (o *Oracle) Regex(pattern string, texts []string) ([]bool, string, error) {
	b, err := json.Marshal(map[string]any{"op": "regex", "pattern": pattern, "texts": texts})
	if err != nil {
		return nil, "", err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	var ans struct {
		Matches []bool  `json:"matches"`
		Error   *string `json:"error"`
	}
	if err := o.roundTrip(b, &ans); err != nil {
		return nil, "", err
	}
	if ans.Error != nil {
		return nil, *ans.Error, nil
	}
	return ans.Matches, "", nil
}
