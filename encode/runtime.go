package encode

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

// Where the ONNX Runtime shared library is looked for.
const (
	// LibEnv is the environment variable naming the ONNX Runtime shared
	// library; a path given to InitRuntime (the --ort-lib flag) wins over it.
	LibEnv = "LAIONDB_ORT_LIB"
	// DefaultLibPath is where scripts/install-onnxruntime.sh puts the
	// library, relative to the repository root.
	DefaultLibPath = "third_party/onnxruntime/libonnxruntime.so.1"
	// InstallScript installs the library at DefaultLibPath.
	InstallScript = "scripts/install-onnxruntime.sh"
)

// ErrNoRuntime is returned (wrapped) when the ONNX Runtime library cannot
// be found.
var ErrNoRuntime = errors.New("encode: ONNX Runtime library not found")

var rt struct {
	mu   sync.Mutex
	path string // the library loaded, once initialised
}

// LibraryPath resolves the ONNX Runtime library: lib when not empty, else
// $LAIONDB_ORT_LIB, else DefaultLibPath under the repository root found by
// walking up from the working directory and then from the executable's
// directory. The file must exist; the error names the install script.
func LibraryPath(lib string) (string, error) {
	if lib == "" {
		lib = os.Getenv(LibEnv)
	}
	if lib != "" {
		if _, err := os.Stat(lib); err != nil {
			return "", fmt.Errorf("%w: %w (run %s, or point --ort-lib / %s at libonnxruntime.so)", ErrNoRuntime, err, InstallScript, LibEnv)
		}
		return filepath.Abs(lib)
	}
	var tried []string
	starts := []string{}
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if exe, err := os.Executable(); err == nil {
		starts = append(starts, filepath.Dir(exe))
	}
	for _, s := range starts {
		root, err := findRoot(s)
		if err != nil {
			continue
		}
		p := filepath.Join(root, DefaultLibPath)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		tried = append(tried, p)
	}
	if len(tried) == 0 {
		return "", fmt.Errorf("%w: no laiondb checkout above the working directory or the executable, and %s is not set: run %s in a checkout, or point --ort-lib or %s at libonnxruntime.so", ErrNoRuntime, LibEnv, InstallScript, LibEnv)
	}
	return "", fmt.Errorf("%w at %s: run %s (or set --ort-lib / %s)", ErrNoRuntime, tried[0], InstallScript, LibEnv)
}

// InitRuntime loads the ONNX Runtime library (see LibraryPath for how lib
// is resolved) and initialises its environment. It does the work once per
// process and is safe to call from many goroutines; later calls return nil,
// or an error if they name a different library than the one loaded. A
// failed call may be retried.
func InitRuntime(lib string) error {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.path != "" {
		if lib != "" {
			p, err := LibraryPath(lib)
			if err != nil {
				return err
			}
			if p != rt.path {
				return fmt.Errorf("encode: ONNX Runtime already loaded from %s, cannot load %s too", rt.path, p)
			}
		}
		return nil
	}
	p, err := LibraryPath(lib)
	if err != nil {
		return err
	}
	ort.SetSharedLibraryPath(p)
	if err := ort.InitializeEnvironment(ort.WithLogLevelFatal()); err != nil {
		return fmt.Errorf("encode: loading ONNX Runtime %s: %w", p, err)
	}
	rt.path = p
	return nil
}

// RuntimeVersion returns the version of the loaded ONNX Runtime, or "" when
// InitRuntime has not succeeded.
func RuntimeVersion() string {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.path == "" {
		return ""
	}
	return ort.GetVersion()
}

// repoRoot returns the laiondb repository root above the working directory.
func repoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	return findRoot(wd)
}

// findRoot walks up from dir to the directory whose go.mod declares module
// github.com/laiondb/laiondb.
func findRoot(dir string) (string, error) {
	for d := dir; ; {
		b, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && bytes.Contains(b, []byte("module github.com/laiondb/laiondb\n")) {
			return d, nil
		}
		up := filepath.Dir(d)
		if up == d {
			return "", fmt.Errorf("encode: no laiondb go.mod above %s", dir)
		}
		d = up
	}
}
