package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/laiondb/laiondb/demodata"
	"github.com/laiondb/laiondb/internal/npy"
)

// TestSlurmScripts: laiondb slurm writes an array job of one task per
// shard, a merge job and a submit script, quoting queries and paths for
// the shell, and refuses what it cannot split.
func TestSlurmScripts(t *testing.T) {
	tmp := t.TempDir()
	data := filepath.Join(tmp, "data it's")
	if _, _, err := demodata.LAION400M(data, demodata.Config{Seed: 1, Parts: 3, Rows: 50}); err != nil {
		t.Fatal(err)
	}
	work := filepath.Join(tmp, "work")
	code, out, errs := runCmd(t, "slurm", "--work", work, "--shards", "3", "--query", "all where text contains 'desi'", "--sbatch=--mem=4G", "--laiondb", "/opt/laiondb", data)
	if code != 0 || !strings.Contains(out, "3 sources in 3 shards") {
		t.Fatalf("exit %d: %s%s", code, out, errs)
	}
	sh, err := os.ReadFile(filepath.Join(work, "shards.sbatch"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"#SBATCH --array=1-3\n", "#SBATCH --mem=4G\n", "#SBATCH --requeue\n", `--shard "$K/3"`,
		"BEFORE=(- 0 50 100)\nTOTAL=150\n", `--rows-before "${BEFORE[$K]}" --rows-total "$TOTAL"`,
		`'all where text contains '\''desi'\'''`, `'` + strings.ReplaceAll(data, "'", `'\''`) + `'`, "--skip-done", "L='/opt/laiondb'"} {
		if !strings.Contains(string(sh), want) {
			t.Errorf("shards.sbatch lacks %q:\n%s", want, sh)
		}
	}
	// --audit adds each shard's audit and the merged report.
	work2 := filepath.Join(tmp, "work2")
	if code, out, errs := runCmd(t, "slurm", "--work", work2, "--shards", "2", "--audit", "essay2021-terms", "--model", "/models/clip", data); code != 0 {
		t.Fatalf("--audit: exit %d: %s%s", code, out, errs)
	}
	sh2, _ := os.ReadFile(filepath.Join(work2, "shards.sbatch"))
	mg2, _ := os.ReadFile(filepath.Join(work2, "merge.sbatch"))
	if !strings.Contains(string(sh2), `audit --store "$STORE" --model '/models/clip' --terms 'essay2021-terms' --partial '`+filepath.Join(work2, "partials", "audit")+`' --shard "$K/2"`) ||
		!strings.Contains(string(mg2), "audit --terms 'essay2021-terms' --merge '"+filepath.Join(work2, "partials", "audit")+"' --shards 2 --report") {
		t.Errorf("--audit scripts:\n%s\n%s", sh2, mg2)
	}
	for _, name := range []string{"stored.sbatch", "near.sbatch"} {
		if _, err := os.Stat(filepath.Join(work, name)); err == nil {
			t.Errorf("%s written unasked", name)
		}
	}
	// A query from a row target: its shards resolve the target in the
	// first job, and search from it in the second, before the merge.
	work3 := filepath.Join(tmp, "work3")
	if code, out, errs := runCmd(t, "slurm", "--work", work3, "--shards", "3", "--query", "all", "--query", "knn(id(7), 5)", "--query", "knn(rows(file('/s.txt')), 5)", "--near", "0.95", data); code != 0 {
		t.Fatalf("row target: exit %d: %s%s", code, out, errs)
	}
	sh3, _ := os.ReadFile(filepath.Join(work3, "shards.sbatch"))
	st3, _ := os.ReadFile(filepath.Join(work3, "stored.sbatch"))
	sub3, _ := os.ReadFile(filepath.Join(work3, "submit.sh"))
	tgt := filepath.Join(work3, "partials", "q2-target-")
	if !strings.Contains(string(sh3), `query --store "$STORE" --target-out '`+tgt+`'"$K".json --shard "$K/3"`) || strings.Contains(string(sh3), "q2-shard-") ||
		!strings.Contains(string(st3), "#SBATCH --array=1-3\n") || !strings.Contains(string(st3), "BEFORE=(- 0 50 100)") ||
		!strings.Contains(string(st3), `--partial '`+filepath.Join(work3, "partials", "q2-shard-")+`'"$K".json`) || !strings.Contains(string(st3), `--target '`+tgt+`*.json'`) ||
		strings.Contains(string(st3), " ingest ") || strings.Contains(string(st3), "'all'") || !strings.Contains(string(st3), "q3-target-") ||
		!strings.Contains(string(sub3), "--dependency=afterok:$jid stored.sbatch") || !strings.Contains(string(sub3), "--dependency=afterok:$after merge.sbatch") {
		t.Errorf("row target scripts:\n%s\n%s\n%s", sh3, st3, sub3)
	}
	near3, _ := os.ReadFile(filepath.Join(work3, "near.sbatch"))
	if !strings.Contains(string(near3), "#SBATCH --array=1-6\n") || !strings.Contains(string(near3), "KS=(- 1 1 1 2 2 3)\nJS=(- 1 2 3 2 3 3)") ||
		!strings.Contains(string(near3), `--with "$J"`) || !strings.Contains(string(sub3), "--dependency=afterok:$jid near.sbatch") || !strings.Contains(string(sub3), "after=$after:$nid") {
		t.Errorf("--near scripts:\n%s\n%s", near3, sub3)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"slurm", "--work", work, "--shards", "2", "--query", "knn(", data}, "--query knn("},
		{[]string{"slurm", "--work", work, "--shards", "2", "--near", "2", data}, "--near 2"},
		{[]string{"slurm", "--work", work, "--shards", "4", "--query", "all", data}, "4 shards of 3 sources"},
		{[]string{"slurm", "--work", work, "--shards", "2", data}, "--query, or --audit"},
		{[]string{"slurm", "--work", work, "--shards", "2", "--query", "all", "--sbatch", "mem=4G", data}, "--sbatch"},
	} {
		if code, _, errs := runCmd(t, c.args...); code == 0 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d: %s", c.args, code, errs)
		}
	}
}

// TestSlurm runs laiondb slurm's jobs on a real SLURM: a one-node cluster
// on loopback (scripts/slurm-cluster.sh; Debian's slurm-wlm and munge, as
// root). Four shard tasks ingest a generated dataset of 8 sources and
// answer three queries; the merge job's results equal the answers of one
// store of all the sources; a second submit skips the work done. It skips
// where SLURM is not installed or cannot start.
func TestSlurm(t *testing.T) {
	if runtime.GOOS != "linux" || os.Getuid() != 0 {
		t.Skip("a test SLURM cluster runs as root on Linux")
	}
	if _, err := exec.LookPath("slurmctld"); err != nil {
		t.Skip("no slurmctld (scripts/install-slurm.sh installs slurm-wlm and munge)")
	}
	tmp := t.TempDir()
	cluster := filepath.Join(tmp, "cluster")
	os.MkdirAll(cluster, 0o755)
	out, err := exec.Command("sh", "../../scripts/slurm-cluster.sh", "start", cluster).Output()
	if err != nil {
		msg := err.Error()
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Skipf("SLURM did not start: %s", msg)
	}
	t.Cleanup(func() { exec.Command("sh", "../../scripts/slurm-cluster.sh", "stop", cluster).Run() })
	conf := strings.TrimSpace(string(out))
	env := append(os.Environ(), "SLURM_CONF="+conf)

	bin := filepath.Join(tmp, "laiondb")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	emb, err := demodata.EmbeddingFolder(filepath.Join(tmp, "emb"), demodata.Config{Seed: 9, Parts: 5, Rows: 200, Dim: 16})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := demodata.LAION400M(filepath.Join(tmp, "meta"), demodata.Config{Seed: 10, Parts: 3, Rows: 300}); err != nil {
		t.Fatal(err)
	}
	qnpy := filepath.Join(tmp, "q.npy")
	if err := npy.WriteFloat32(qnpy, emb.Image[2][7*16:8*16], 16); err != nil {
		t.Fatal(err)
	}
	seeds := filepath.Join(tmp, "seeds.txt")
	if err := os.WriteFile(seeds, []byte("950\n12\n430\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	paths := []string{emb.Dir, filepath.Join(tmp, "meta")}
	queries := []string{
		"all where any lexicon essay2021 by nsfw, license",
		"knn(vector('" + qnpy + "'), 30) where nsfw = 'UNLIKELY' by file",
		"within(vector('" + qnpy + "'), 0.5) sweep similarity at (0.3)",
		"all sample 500 seed 11 where nsfw = 'UNLIKELY' by file",
		"knn(row(450), 20) by nsfw",
		"within(row(900), 0.6) where nsfw = 'UNLIKELY'",
		"knn(rows(file('" + seeds + "')), 10) by nsfw",
	}
	work := filepath.Join(tmp, "work")
	args := []string{"slurm", "--work", work, "--shards", "4", "--laiondb", bin, "--dups", "url,text", "--near", "0.9"}
	for _, q := range queries {
		args = append(args, "--query", q)
	}
	if code, out, errs := runCmd(t, append(args, paths...)...); code != 0 {
		t.Fatalf("laiondb slurm: exit %d: %s%s", code, out, errs)
	}
	submit := func() {
		t.Helper()
		cmd := exec.Command(filepath.Join(work, "submit.sh"))
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("submit.sh: %v\n%s", err, out)
		}
		deadline := time.Now().Add(5 * time.Minute)
		for {
			q := exec.Command("squeue", "-h")
			q.Env = env
			out, err := q.Output()
			if err == nil && strings.TrimSpace(string(out)) == "" {
				return
			}
			if time.Now().After(deadline) {
				logs, _ := filepath.Glob(filepath.Join(work, "logs", "*"))
				var b strings.Builder
				for _, l := range logs {
					x, _ := os.ReadFile(l)
					b.WriteString(l + ":\n" + string(x))
				}
				t.Fatalf("jobs still queued after 5 minutes: %s\n%s", out, b.String())
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
	submit()

	whole := filepath.Join(tmp, "whole")
	if code, _, errs := runCmd(t, append([]string{"ingest", "-q", "--store", whole}, paths...)...); code != 0 {
		t.Fatalf("ingest: exit %d: %s", code, errs)
	}
	strip := func(b []byte) map[string]any { return stripJSON(t, b) }
	check := func() {
		t.Helper()
		for i, q := range queries {
			got, err := os.ReadFile(filepath.Join(work, "results", "q"+string(rune('1'+i))+".json"))
			if err != nil {
				logs, _ := os.ReadFile(filepath.Join(work, "logs", "merge.out"))
				t.Fatalf("%s: no merged result: %v\n%s", q, err, logs)
			}
			code, one, errs := runCmd(t, "query", "--store", whole, "--format", "json", q)
			if code != 0 {
				t.Fatalf("%s: exit %d: %s", q, code, errs)
			}
			if !reflect.DeepEqual(strip(got), strip([]byte(one))) {
				t.Errorf("%s: merged on SLURM\n%s\none store\n%s", q, got, one)
			}
		}
		got, err := os.ReadFile(filepath.Join(work, "results", "dups.json"))
		if err != nil {
			logs, _ := os.ReadFile(filepath.Join(work, "logs", "merge.out"))
			t.Fatalf("dups: no merged result: %v\n%s", err, logs)
		}
		code, one, errs := runCmd(t, "dups", "--store", whole, "--key", "url,text", "--format", "json")
		if code != 0 {
			t.Fatalf("dups: exit %d: %s", code, errs)
		}
		if !reflect.DeepEqual(strip(got), strip([]byte(one))) {
			t.Errorf("dups: merged on SLURM\n%s\none store\n%s", got, one)
		}
		got, err = os.ReadFile(filepath.Join(work, "results", "near.json"))
		if err != nil {
			logs, _ := os.ReadFile(filepath.Join(work, "logs", "merge.out"))
			t.Fatalf("near: no merged result: %v\n%s", err, logs)
		}
		code, one, errs = runCmd(t, "dups", "--near", "--method", "exact", "--threshold", "0.9", "--store", whole, "--format", "json")
		if code != 0 {
			t.Fatalf("dups --near: exit %d: %s", code, errs)
		}
		g, w := strip(got), strip([]byte(one))
		delete(g, "scored")
		delete(w, "scored")
		if !reflect.DeepEqual(g, w) || strings.Contains(one, `"groups": 0,`) {
			t.Errorf("near: merged on SLURM\n%s\none store\n%s", got, one)
		}
	}
	check()
	// A second submit finds the sources ingested and the partials done.
	submit()
	logs, err := os.ReadFile(filepath.Join(work, "logs", "shard-3.out"))
	if err != nil || !strings.Contains(string(logs), "already holds the partial result of shard 3 of 4") || !strings.Contains(string(logs), "already holds the distinct keys of shard 3 of 4") {
		t.Errorf("the second run of shard 3 did not keep its partials: %v\n%s", err, logs)
	}
	check()
}
