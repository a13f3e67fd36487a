# The two set-up commands of the README:
#   make demo   builds laiondb and runs it on a generated demo store
#   make test   runs every test (what CI runs through .ci/run)
GO ?= go

.PHONY: demo test build ort fuzz bench

build:
	$(GO) build -o laiondb ./cmd/laiondb

# ONNX Runtime for the CLIP encoders, into the git-ignored third_party/.
ort:
	sh scripts/install-onnxruntime.sh

demo: ort build
	./laiondb demo --dir demo-store

test: ort
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo 'gofmt: files above need formatting'; exit 1; }
	$(GO) test -count=1 ./...
	$(GO) test -count=1 -race ./db/... ./hnsw/... ./vector/... ./query/... ./engine/... ./output/... ./table/... ./internal/...

# Run every fuzz target for FUZZSECONDS each (default 60).
FUZZSECONDS ?= 60
fuzz:
	sh scripts/fuzz.sh $(FUZZSECONDS)

# The store's ingest and query benchmarks; bench/run.sh runs the comparison
# with FAISS and hnswlib (BENCHMARKS.md).
bench:
	$(GO) test -run=^$$ -bench=. -benchtime=5x ./db/
