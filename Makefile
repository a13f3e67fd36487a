# The two set-up commands of the README:
#   make demo   builds laiondb and runs it on a generated demo store
#   make test   runs every test (what CI runs through .ci/run)
GO ?= go

.PHONY: demo test build ort oracle browser slurm oracle-long fuzz bench

build:
	$(GO) build -o laiondb ./cmd/laiondb

# ONNX Runtime for the CLIP encoders, into the git-ignored third_party/.
ort:
	sh scripts/install-onnxruntime.sh

# Python's pandas and numpy for the differential test's oracle
# (internal/oracle/oracle.py); a no-op when /usr/bin/python3 has them.
oracle:
	sh scripts/install-oracle.sh

# Debian's chromium, in which a test renders the audit report; a no-op when
# chromium is on PATH.
browser:
	sh scripts/install-chromium.sh

# Debian's slurm-wlm and munge, on which TestSlurm (./cmd/laiondb) runs
# laiondb slurm's jobs as a one-node cluster; the test skips without them.
slurm:
	sh scripts/install-slurm.sh

# The differential test at 50,000 queries (ORACLEQUERIES, ORACLESEED).
ORACLEQUERIES ?= 50000
ORACLESEED ?= 7
oracle-long:
	sh scripts/oracle.sh $(ORACLEQUERIES) $(ORACLESEED)

demo: ort build
	./laiondb demo --dir demo-store

# The last line reads an exported parquet file in DuckDB: a module of its own
# (internal/duckcheck), so that laiondb does not link DuckDB; BENCHMARKS.md
# ("Export") has its build time. LAIONDB_NO_DUCKDB=1 skips it.
test: ort oracle browser slurm
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo 'gofmt: files above need formatting'; exit 1; }
	$(GO) test -count=1 -timeout 30m ./...
	$(GO) test -count=1 -timeout 30m -race ./db/... ./hnsw/... ./ivf/... ./vector/... ./query/... ./engine/... ./output/... ./table/... ./internal/... ./server/...
	cd internal/duckcheck && $(GO) vet ./... && $(GO) test -count=1 ./...

# Run every fuzz target for FUZZSECONDS each (default 60).
FUZZSECONDS ?= 60
fuzz:
	sh scripts/fuzz.sh $(FUZZSECONDS)

# The store's ingest and query benchmarks; bench/run.sh runs the comparison
# with FAISS and hnswlib (BENCHMARKS.md).
bench:
	$(GO) test -run=^$$ -bench=. -benchtime=5x ./db/
