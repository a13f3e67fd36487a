// hnswlib_bench: laiondb-bench driver for hnswlib compiled from Debian's
// libhnswlib-dev headers. The Go harness compiles it at run time with
//
//   g++ -O3 -march=native -std=c++17 -pthread -o bench/out/bin/hnswlib_bench hnswlib_bench.cpp
//
// and runs
//
//   hnswlib_bench run BASE.npy OUTDIR TAG M EFC BATCH_THREADS EF1,EF2,... BUILD_THREADS NAME=QUERIES.npy ...
//   hnswlib_bench open INDEX QUERIES.npy DIM EF        (fresh-process open probe)
//   hnswlib_bench sweep INDEX DIM OUTDIR TAG EF1,EF2,... NAME=QUERIES.npy ...
//                                                      (fresh-process search round)
//
// Inputs are float32 C-order .npy (n x d, unit norm); result ids are written
// as int64 .npy (-1 for none) for the harness to score. It builds once per
// entry of BUILD_THREADS (e.g. "1,2"; the ParallelFor pattern of hnswlib's
// python bindings), measures RSS delta across the first build, keeps the
// last build, saves the index, and prints
// one JSON object on stdout. Space: inner product, M and efC as given,
// random_seed 100 (hnswlib's default).
//
// "sweep" is one round of laiondb-bench --rounds: it loads the saved index
// with hnswlib's own loader and defaults, and for each query set runs one
// untimed warm-up pass at the largest ef, then for each ef (setEf) times
// every query one at a time with k=10 (searchKnn), and prints the points
// (QPS, p50/p99) as JSON with the result ids in OUTDIR, as "run" does.
#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

using clk = std::chrono::steady_clock;

static double since(clk::time_point t) {
    return std::chrono::duration<double>(clk::now() - t).count();
}

struct Npy {
    size_t rows = 0, cols = 0;
    std::vector<float> data;
};

static Npy read_npy(const std::string &path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw std::runtime_error("open " + path);
    char magic[8];
    f.read(magic, 8);
    if (std::memcmp(magic, "\x93NUMPY", 6) != 0) throw std::runtime_error(path + ": not npy");
    uint32_t hlen = 0;
    if (magic[6] == 1) {
        uint16_t h16;
        f.read(reinterpret_cast<char *>(&h16), 2);
        hlen = h16;
    } else {
        f.read(reinterpret_cast<char *>(&hlen), 4);
    }
    std::string h(hlen, ' ');
    f.read(&h[0], hlen);
    if (h.find("'<f4'") == std::string::npos) throw std::runtime_error(path + ": want <f4");
    if (h.find("'fortran_order': False") == std::string::npos) throw std::runtime_error(path + ": fortran order");
    size_t lo = h.find('(', h.find("'shape'")), hi = h.find(')', lo);
    std::string shape = h.substr(lo + 1, hi - lo - 1);
    Npy a;
    if (std::sscanf(shape.c_str(), "%zu, %zu", &a.rows, &a.cols) != 2) throw std::runtime_error(path + ": shape " + shape);
    a.data.resize(a.rows * a.cols);
    f.read(reinterpret_cast<char *>(a.data.data()), a.data.size() * 4);
    if (!f) throw std::runtime_error(path + ": truncated");
    return a;
}

static void write_npy_i64(const std::string &path, const std::vector<int64_t> &v, size_t rows, size_t cols) {
    std::string h = "{'descr': '<i8', 'fortran_order': False, 'shape': (" + std::to_string(rows) + ", " +
                    std::to_string(cols) + "), }";
    while ((10 + h.size() + 1) % 64) h += ' ';
    h += '\n';
    std::ofstream f(path, std::ios::binary);
    f.write("\x93NUMPY\x01\x00", 8);
    uint16_t hl = h.size();
    f.write(reinterpret_cast<char *>(&hl), 2);
    f.write(h.data(), h.size());
    f.write(reinterpret_cast<const char *>(v.data()), v.size() * 8);
    if (!f) throw std::runtime_error("write " + path);
}

static long rss() {
    long pages = 0, res = 0;
    FILE *f = std::fopen("/proc/self/statm", "r");
    if (f) {
        if (std::fscanf(f, "%ld %ld", &pages, &res) != 2) res = 0;
        std::fclose(f);
    }
    return res * sysconf(_SC_PAGESIZE);
}

template <class F>
static void parallel_for(size_t n, int threads, F fn) {
    if (threads <= 1) {
        for (size_t i = 0; i < n; i++) fn(i);
        return;
    }
    std::atomic<size_t> next(0);
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; t++)
        ts.emplace_back([&] {
            for (;;) {
                size_t i = next.fetch_add(1);
                if (i >= n) return;
                fn(i);
            }
        });
    for (auto &t : ts) t.join();
}

static void search_into(hnswlib::HierarchicalNSW<float> &idx, const float *q, size_t k, int64_t *out) {
    auto pq = idx.searchKnn(q, k);
    for (size_t j = 0; j < k; j++) out[j] = -1;
    size_t m = pq.size();
    while (!pq.empty()) {  // furthest first
        if (m - 1 < k) out[m - 1] = (int64_t)pq.top().second;
        pq.pop();
        m--;
    }
}

// jnum formats x for JSON: a build that did not run is 0, as in the Go systems.
static double jnum(double x) { return std::isnan(x) ? 0 : x; }

static int run(int argc, char **argv) {
    std::string base = argv[2], out = argv[3], tag = argv[4];
    size_t M = std::stoul(argv[5]), efc = std::stoul(argv[6]);
    int bt = std::stoi(argv[7]);
    std::vector<size_t> sweep;
    {
        std::stringstream ss(argv[8]);
        std::string s;
        while (std::getline(ss, s, ',')) sweep.push_back(std::stoul(s));
    }
    std::vector<int> builds;  // thread counts to build with, in order
    {
        std::stringstream ss(argv[9]);
        std::string s;
        while (std::getline(ss, s, ',')) builds.push_back(std::stoi(s));
    }
    Npy xb = read_npy(base);
    size_t n = xb.rows, d = xb.cols;
    hnswlib::InnerProductSpace space(d);
    hnswlib::HierarchicalNSW<float> *idx = nullptr;
    double build[3] = {NAN, NAN, NAN};
    double bpv = NAN;
    for (size_t bi = 0; bi < builds.size(); bi++) {
        int threads = builds[bi];
        delete idx;
        idx = nullptr;
        long r0 = rss();
        std::fprintf(stderr, "hnswlib-cpp: build with %d thread(s)\n", threads);
        auto t0 = clk::now();
        idx = new hnswlib::HierarchicalNSW<float>(&space, n, M, efc, 100);
        // hnswlib's bindings add the first point alone, then the rest in parallel.
        idx->addPoint(xb.data.data(), 0);
        parallel_for(n - 1, threads, [&](size_t i) { idx->addPoint(xb.data.data() + (i + 1) * d, i + 1); });
        if (threads >= 1 && threads <= 2) build[threads] = since(t0);
        if (bi == 0) bpv = double(rss() - r0) / n;
        std::fprintf(stderr, "  %.1f s\n", since(t0));
    }
    std::string path = out + "/" + tag + ".index";
    idx->saveIndex(path);
    struct stat st;
    stat(path.c_str(), &st);
    std::ostringstream js;
    js << "{\"system\":\"hnswlib-cpp\",\"params\":\"M=" << M << "/efC=" << efc << "\",\"n\":" << n
       << ",\"build_sec_1\":" << jnum(build[1]) << ",\"build_sec_2\":" << jnum(build[2]) << ",\"bytes_per_vec\":" << bpv
       << ",\"bytes_method\":\"process RSS delta across the first build (/proc/self/statm)\""
       << ",\"file_bytes\":" << st.st_size << ",\"points\":[";
    bool first = true;
    for (int a = 10; a < argc; a++) {
        std::string arg = argv[a];
        std::string name = arg.substr(0, arg.find('=')), qpath = arg.substr(arg.find('=') + 1);
        Npy q = read_npy(qpath);
        size_t nq = q.rows;
        for (size_t ef : sweep) {
            idx->setEf(ef);
            std::vector<int64_t> ids10(nq * 10), ids100(nq * 100);
            std::vector<double> lat(nq);
            auto t0 = clk::now();
            for (size_t i = 0; i < nq; i++) {
                auto s = clk::now();
                search_into(*idx, q.data.data() + i * d, 10, ids10.data() + i * 10);
                lat[i] = since(s);
            }
            double total = since(t0);
            parallel_for(nq, bt, [&](size_t i) { search_into(*idx, q.data.data() + i * d, 100, ids100.data() + i * 100); });
            std::vector<int64_t> scratch(nq * 10);
            t0 = clk::now();
            parallel_for(nq, bt, [&](size_t i) { search_into(*idx, q.data.data() + i * d, 10, scratch.data() + i * 10); });
            double bsec = since(t0);
            std::string f10 = out + "/" + tag + "-" + name + "-ef" + std::to_string(ef) + "-k10.npy";
            std::string f100 = out + "/" + tag + "-" + name + "-ef" + std::to_string(ef) + "-k100.npy";
            write_npy_i64(f10, ids10, nq, 10);
            write_npy_i64(f100, ids100, nq, 100);
            std::sort(lat.begin(), lat.end());
            js << (first ? "" : ",") << "{\"queries\":\"" << name << "\",\"knob\":\"ef\",\"value\":" << ef
               << ",\"qps1\":" << nq / total << ",\"p50_ns\":" << lat[nq / 2] * 1e9
               << ",\"p99_ns\":" << lat[std::min(nq - 1, nq * 99 / 100)] * 1e9 << ",\"batch_qps\":" << nq / bsec
               << ",\"batch_threads\":" << bt << ",\"ids10\":\"" << f10 << "\",\"ids100\":\"" << f100 << "\"}";
            first = false;
            std::fprintf(stderr, "  %s ef=%zu: %.0f QPS\n", name.c_str(), ef, nq / total);
        }
    }
    js << "]}";
    std::printf("%s\n", js.str().c_str());
    delete idx;
    return 0;
}

static int open_probe(char **argv) {
    std::string path = argv[2];
    Npy q = read_npy(argv[3]);
    size_t d = std::stoul(argv[4]), ef = std::stoul(argv[5]);
    auto t0 = clk::now();
    hnswlib::InnerProductSpace space(d);
    hnswlib::HierarchicalNSW<float> idx(&space, path);
    idx.setEf(ef);
    std::vector<int64_t> ids(10);
    search_into(idx, q.data.data(), 10, ids.data());
    std::printf("%.6f\n", since(t0));
    return 0;
}

static std::vector<size_t> parse_list(const char *s) {
    std::vector<size_t> v;
    std::stringstream ss(s);
    std::string x;
    while (std::getline(ss, x, ',')) v.push_back(std::stoul(x));
    return v;
}

static int sweep(int argc, char **argv) {
    std::string path = argv[2], out = argv[4], tag = argv[5];
    size_t d = std::stoul(argv[3]);
    std::vector<size_t> efs = parse_list(argv[6]);
    hnswlib::InnerProductSpace space(d);
    hnswlib::HierarchicalNSW<float> idx(&space, path);
    std::ostringstream js;
    js << "{\"system\":\"hnswlib-cpp\",\"params\":\"M=" << idx.M_ << "/efC=" << idx.ef_construction_
       << "\",\"n\":" << idx.cur_element_count << ",\"points\":[";
    bool first = true;
    for (int a = 7; a < argc; a++) {
        std::string arg = argv[a];
        std::string name = arg.substr(0, arg.find('=')), qpath = arg.substr(arg.find('=') + 1);
        Npy q = read_npy(qpath);
        if (q.cols != d) throw std::runtime_error(qpath + ": dimension " + std::to_string(q.cols));
        size_t nq = q.rows;
        std::vector<int64_t> ids10(nq * 10);
        idx.setEf(*std::max_element(efs.begin(), efs.end()));
        for (size_t i = 0; i < nq; i++) search_into(idx, q.data.data() + i * d, 10, ids10.data() + i * 10);
        for (size_t ef : efs) {
            idx.setEf(ef);
            std::vector<double> lat(nq);
            auto t0 = clk::now();
            for (size_t i = 0; i < nq; i++) {
                auto s = clk::now();
                search_into(idx, q.data.data() + i * d, 10, ids10.data() + i * 10);
                lat[i] = since(s);
            }
            double total = since(t0);
            std::string f10 = out + "/" + tag + "-" + name + "-ef" + std::to_string(ef) + "-k10.npy";
            write_npy_i64(f10, ids10, nq, 10);
            std::sort(lat.begin(), lat.end());
            js << (first ? "" : ",") << "{\"queries\":\"" << name << "\",\"knob\":\"ef\",\"value\":" << ef
               << ",\"nq\":" << nq << ",\"qps1\":" << nq / total << ",\"p50_ns\":" << lat[nq / 2] * 1e9
               << ",\"p99_ns\":" << lat[std::min(nq - 1, nq * 99 / 100)] * 1e9 << ",\"ids10\":\"" << f10 << "\"}";
            first = false;
            std::fprintf(stderr, "  %s ef=%zu: %.0f QPS\n", name.c_str(), ef, nq / total);
        }
    }
    js << "]}";
    std::printf("%s\n", js.str().c_str());
    return 0;
}

int main(int argc, char **argv) {
    try {
        if (argc >= 6 && std::string(argv[1]) == "open") return open_probe(argv);
        if (argc >= 11 && std::string(argv[1]) == "run") return run(argc, argv);
        if (argc >= 8 && std::string(argv[1]) == "sweep") return sweep(argc, argv);
        std::fprintf(stderr,
                     "usage: hnswlib_bench run BASE OUT TAG M EFC BATCH EFS BUILDS NAME=Q... | open INDEX Q DIM EF | "
                     "sweep INDEX DIM OUT TAG EFS NAME=Q...\n");
        return 2;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "hnswlib_bench: %s\n", e.what());
        return 1;
    }
}
