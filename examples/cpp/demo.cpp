// demo.cpp - Gumbel-Softmax on real classifier logits, from C++17 through the
// library's C header.
//
// Usage: demo_cpp [logits.npy [labels.npy]]
//   logits: float32 '<f4' (rows, classes); labels: int64 '<i8' (rows,).
//   Default: examples/data/digits_logits.npy (+ digits_labels.npy when
//   present), relative to the repository root.
//   GUMBEL_DEMO_QUICK=1 makes the draws and the timing run small (valgrind, CI).
//
// Build from the repository root, after `cargo build --release` (one line each):
//   cc -std=c99 -O2 -Wall -Wextra -Werror -Iexamples/common
//      -c examples/common/npy.c -o target/release/npy.o
//   c++ -std=c++17 -O2 -Wall -Wextra -Werror -Iinclude -Iexamples/common
//      examples/cpp/demo.cpp target/release/npy.o -o target/release/demo_cpp
//      -Ltarget/release -lgumbel -Wl,-rpath,"$PWD/target/release"

#include "gumbel.h"
#include "npy.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace {

// ---- errors --------------------------------------------------------------

// A failed library call: the status, its static text, and the thread's last
// error message as the library recorded it.
class GumbelError : public std::runtime_error {
public:
    GumbelError(gumbel_status status, const std::string& call)
        : std::runtime_error(call + ": " + gumbel_status_str(status) + ": " +
                             last_error()),
          status_(status) {}

    gumbel_status status() const noexcept { return status_; }

private:
    static std::string last_error() {
        // gumbel_last_error returns the full length, so a long message is
        // fetched again with enough room.
        std::string msg(256, '\0');
        std::size_t full = gumbel_last_error(msg.data(), msg.size());
        if (full >= msg.size()) {
            msg.assign(full + 1, '\0');
            full = gumbel_last_error(msg.data(), msg.size());
        }
        msg.resize(std::min(full, msg.size() - 1));
        return msg.empty() ? "(no message)" : msg;
    }

    gumbel_status status_;
};

// The one place that turns a status into an exception.
void check(gumbel_status status, const char* call) {
    if (status != GUMBEL_STATUS_OK) {
        throw GumbelError(status, call);
    }
}

// ---- input ----------------------------------------------------------------

// Owns what npy_load allocated.
class NpyArray {
public:
    explicit NpyArray(const std::string& path) : path_(path) {
        char err[512];
        if (npy_load(path.c_str(), &array_, err, sizeof err) != 0) {
            throw std::runtime_error(err);
        }
    }
    ~NpyArray() { npy_free(&array_); }
    NpyArray(const NpyArray&) = delete;
    NpyArray& operator=(const NpyArray&) = delete;
    NpyArray(NpyArray&& other) noexcept
        : path_(std::move(other.path_)), array_(std::exchange(other.array_, npy_array{})) {}
    NpyArray& operator=(NpyArray&& other) noexcept {
        std::swap(path_, other.path_);
        std::swap(array_, other.array_);
        return *this;
    }

    const std::string& path() const { return path_; }
    std::string dtype() const { return array_.dtype; }
    std::vector<std::size_t> shape() const {
        return {array_.shape, array_.shape + array_.ndim};
    }
    std::string shape_str() const {
        char buf[128];
        return npy_shape_str(&array_, buf, sizeof buf);
    }

    template <class T>
    std::vector<T> to_vector(const char* want_dtype) const {
        if (dtype() != want_dtype || sizeof(T) != array_.itemsize) {
            throw std::runtime_error(path_ + ": expected dtype '" + want_dtype +
                                     "', got '" + dtype() + "'");
        }
        const T* first = static_cast<const T*>(array_.data);
        return {first, first + array_.count};
    }

private:
    std::string path_;
    npy_array array_{};
};

// A row-major (rows, classes) matrix.
struct Matrix {
    std::vector<float> values;
    std::size_t rows = 0;
    std::size_t classes = 0;

    const float* row(std::size_t r) const { return values.data() + r * classes; }
};

Matrix load_logits(const std::string& path) {
    const NpyArray npy(path);
    if (npy.dtype() != "<f4") {
        throw std::runtime_error(path + ": logits must be float32 ('<f4'), got '" +
                                 npy.dtype() + "'; convert with arr.astype(np.float32)");
    }
    const auto shape = npy.shape();
    if (shape.size() != 2) {
        throw std::runtime_error(path + ": logits must be a 2-D (rows, classes) array, got shape " +
                                 npy.shape_str());
    }
    if (shape[0] == 0 || shape[1] == 0) {
        throw std::runtime_error(path + ": shape " + npy.shape_str() + " is empty");
    }
    return Matrix{npy.to_vector<float>("<f4"), shape[0], shape[1]};
}

std::vector<std::int64_t> load_labels(const std::string& path, const Matrix& logits) {
    const NpyArray npy(path);
    const auto shape = npy.shape();
    if (npy.dtype() != "<i8" || shape.size() != 1 || shape[0] != logits.rows) {
        throw std::runtime_error(path + ": labels must be int64 ('<i8') of shape (" +
                                 std::to_string(logits.rows) + ",), got '" + npy.dtype() +
                                 "' " + npy.shape_str());
    }
    auto labels = npy.to_vector<std::int64_t>("<i8");
    const auto k = static_cast<std::int64_t>(logits.classes);
    const auto bad = std::find_if(labels.begin(), labels.end(),
                                  [k](std::int64_t y) { return y < 0 || y >= k; });
    if (bad != labels.end()) {
        throw std::runtime_error(path + ": label " + std::to_string(*bad) + " of row " +
                                 std::to_string(bad - labels.begin()) +
                                 " is not a class index in [0, " + std::to_string(k) + ")");
    }
    return labels;
}

// ---- the library, the C++ way ------------------------------------------------

// Hands out non-overlapping stream ranges: each call starts where the last
// one ended, advanced by what gumbel_streams() says a call of that shape uses.
class NoisePlan {
public:
    explicit NoisePlan(std::uint64_t seed) : seed_(seed) {}

    std::uint64_t seed() const { return seed_; }

    std::uint64_t take(std::size_t rows, std::size_t classes) {
        const std::uint64_t used = gumbel_streams(rows, classes, 1);
        if (used == 0 || used > UINT64_MAX - next_) {
            throw std::runtime_error("gumbel_streams: cannot advance the offset");
        }
        return std::exchange(next_, next_ + used);
    }

private:
    std::uint64_t seed_;
    std::uint64_t next_ = 0;
};

std::vector<float> softmax(const Matrix& m, float tau = 1.0f) {
    std::vector<float> out(m.values.size());
    check(gumbel_tempered_softmax_f32(m.values.data(), out.data(), m.rows, m.classes, 1, tau),
          "gumbel_tempered_softmax_f32");
    return out;
}

std::vector<float> gumbel_softmax(const Matrix& m, float tau, bool hard, std::uint64_t seed,
                                  std::uint64_t offset) {
    std::vector<float> out(m.values.size());
    check(gumbel_softmax_f32(m.values.data(), out.data(), m.rows, m.classes, 1, tau, hard,
                             seed, offset),
          hard ? "gumbel_softmax_f32 (hard)" : "gumbel_softmax_f32 (soft)");
    return out;
}

std::vector<std::int64_t> gumbel_max(const Matrix& m, std::uint64_t seed, std::uint64_t offset) {
    std::vector<std::int64_t> out(m.rows);
    check(gumbel_sample_f32(m.values.data(), out.data(), m.rows, m.classes, 1, seed, offset),
          "gumbel_sample_f32");
    return out;
}

// ---- statistics ------------------------------------------------------------------

std::size_t argmax(const float* first, std::size_t n) {
    return static_cast<std::size_t>(std::max_element(first, first + n) - first);
}

double entropy(const float* first, std::size_t n) {
    return std::accumulate(first, first + n, 0.0, [](double h, float p) {
        return p > 0.0f ? h - double(p) * std::log(double(p)) : h;
    });
}

double mean(const std::vector<double>& xs) {
    return std::accumulate(xs.begin(), xs.end(), 0.0) / double(xs.size());
}

std::string percent(double fraction) {
    std::ostringstream s;
    s << std::fixed << std::setprecision(2) << 100.0 * fraction << " %";
    return s.str();
}

bool quick_mode() {
    const char* q = std::getenv("GUMBEL_DEMO_QUICK");
    return q != nullptr && *q != '\0' && std::string(q) != "0";
}

// ---- the report ---------------------------------------------------------------------

void temperature_sweep(const Matrix& logits, const std::vector<std::size_t>& top,
                       double mean_maxp, NoisePlan& plan) {
    // One noise draw shared by every temperature: the same sample, tempered.
    const std::uint64_t offset = plan.take(logits.rows, logits.classes);
    std::cout << "temperature sweep, one noise draw per row shared by every tau (seed "
              << plan.seed() << ")\n"
              << "    tau | soft: entropy  max prob | hard: =argmax(logits)  =argmax(soft)\n";
    for (const float tau : {10.0f, 1.0f, 0.5f, 0.1f}) {
        const auto soft = gumbel_softmax(logits, tau, false, plan.seed(), offset);
        const auto hard = gumbel_softmax(logits, tau, true, plan.seed(), offset);  // same noise
        const std::size_t k = logits.classes;

        std::vector<double> ent(logits.rows), maxp(logits.rows);
        std::size_t same_top = 0, same_soft = 0, not_one_hot = 0;
        for (std::size_t r = 0; r < logits.rows; ++r) {
            const float* s = soft.data() + r * k;
            const float* h = hard.data() + r * k;
            const std::size_t smax = argmax(s, k);
            ent[r] = entropy(s, k);
            maxp[r] = s[smax];
            const auto ones = std::count(h, h + k, 1.0f);
            const auto zeros = std::count(h, h + k, 0.0f);
            if (ones != 1 || zeros + 1 != static_cast<std::ptrdiff_t>(k)) {
                ++not_one_hot;
                continue;
            }
            const std::size_t hot = argmax(h, k);
            same_top += hot == top[r];
            same_soft += hot == smax;
        }
        const double n = double(logits.rows);
        std::cout << "  " << std::setw(5) << tau << " | " << std::fixed << std::setprecision(4)
                  << std::setw(13) << mean(ent) << "  " << std::setw(8) << mean(maxp) << " | "
                  << std::setw(21) << percent(double(same_top) / n) << "  " << std::setw(13)
                  << percent(double(same_soft) / n) << '\n'
                  << std::defaultfloat;
        if (not_one_hot > 0) {
            std::cout << "          !! " << not_one_hot << " hard rows are not exactly one-hot\n";
        }
    }
    std::cout << "  expected =argmax(logits) for Gumbel-max at any tau: " << percent(mean_maxp)
              << "\n\n";
}

void gumbel_max_check(const Matrix& logits, const std::vector<float>& probs,
                      const std::vector<std::size_t>& top,
                      const std::vector<std::int64_t>& labels, NoisePlan& plan) {
    const std::size_t draws = quick_mode() ? 10000 : 100000;
    const std::size_t k = logits.classes;
    if (k > 160) {
        std::cout << "(Gumbel-max check skipped: too many classes)\n\n";
        return;
    }
    const auto maxp = [&](std::size_t r) { return double(probs[r * k + top[r]]); };
    const auto nearest = [&](double target) {
        std::vector<std::size_t> rows(logits.rows);
        std::iota(rows.begin(), rows.end(), std::size_t{0});
        return *std::min_element(rows.begin(), rows.end(), [&](std::size_t a, std::size_t b) {
            return std::abs(maxp(a) - target) < std::abs(maxp(b) - target);
        });
    };

    std::cout << "Gumbel-max draws vs softmax, " << draws << " draws per row\n";
    const std::array<std::pair<const char*, double>, 3> picks{
        {{"easy", 0.97}, {"medium", 0.75}, {"ambiguous", 0.0}}};
    for (const auto& [kind, target] : picks) {
        const std::size_t r = nearest(target);
        Matrix tiled{{}, draws, k};
        tiled.values.reserve(draws * k);
        for (std::size_t d = 0; d < draws; ++d) {
            tiled.values.insert(tiled.values.end(), logits.row(r), logits.row(r) + k);
        }
        const auto idx = gumbel_max(tiled, plan.seed(), plan.take(draws, k));
        std::vector<std::size_t> counts(k, 0);
        for (const std::int64_t i : idx) {
            if (i < 0 || static_cast<std::size_t>(i) >= k) {
                throw std::runtime_error("gumbel_sample_f32 returned an index out of range");
            }
            ++counts[static_cast<std::size_t>(i)];
        }

        // Pearson's chi-square; classes expecting fewer than 5 draws pooled.
        double stat = 0.0, pool_e = 0.0, pool_o = 0.0;
        int bins = 0;
        for (std::size_t c = 0; c < k; ++c) {
            const double e = double(draws) * double(probs[r * k + c]);
            if (e >= 5.0) {
                stat += (double(counts[c]) - e) * (double(counts[c]) - e) / e;
                ++bins;
            } else {
                pool_e += e;
                pool_o += double(counts[c]);
            }
        }
        if (pool_e > 0.0) {
            stat += (pool_o - pool_e) * (pool_o - pool_e) / pool_e;
            ++bins;
        }
        const int df = bins - 1;

        std::cout << "  row " << r << " (" << kind;
        if (!labels.empty()) {
            std::cout << ", label " << labels[r];
        }
        std::cout << std::fixed << std::setprecision(3) << ", max p " << maxp(r)
                  << "): chi2 " << std::setprecision(2) << stat << " on " << df << " df";
        if (df > 0) {  // Wilson-Hilferty approximation of the upper tail
            const double v = 2.0 / (9.0 * df);
            const double z = (std::cbrt(stat / df) - (1.0 - v)) / std::sqrt(v);
            std::cout << ", p-value " << std::setprecision(3) << 0.5 * std::erfc(z / std::sqrt(2.0));
        }
        std::cout << "\n    class   ";
        for (std::size_t c = 0; c < std::min<std::size_t>(k, 10); ++c) {
            std::cout << std::setw(7) << c;
        }
        std::cout << "\n    softmax " << std::setprecision(4);
        for (std::size_t c = 0; c < std::min<std::size_t>(k, 10); ++c) {
            std::cout << std::setw(7) << probs[r * k + c];
        }
        std::cout << "\n    sampled ";
        for (std::size_t c = 0; c < std::min<std::size_t>(k, 10); ++c) {
            std::cout << std::setw(7) << double(counts[c]) / double(draws);
        }
        std::cout << std::defaultfloat << '\n';
    }
    std::cout << '\n';
}

void throughput(const Matrix& logits, NoisePlan& plan) {
    using clock = std::chrono::steady_clock;
    const std::size_t target_elems = std::size_t{1} << (quick_mode() ? 16 : 22);
    const int reps = quick_mode() ? 2 : 5;
    const std::size_t k = logits.classes;
    const std::size_t rows = std::max(logits.rows, (target_elems + k - 1) / k);

    Matrix big{std::vector<float>(rows * k), rows, k};
    for (std::size_t r = 0; r < rows; ++r) {
        std::copy_n(logits.row(r % logits.rows), k, big.values.begin() + std::ptrdiff_t(r * k));
    }
    std::vector<float> out(big.values.size());
    std::vector<std::int64_t> idx(rows);

    const auto best_of = [&](auto&& call) {
        std::chrono::duration<double> best{INFINITY};
        for (int rep = 0; rep <= reps; ++rep) {  // rep 0 warms up
            const std::uint64_t offset = plan.take(rows, k);
            const auto t0 = clock::now();
            call(offset);
            const std::chrono::duration<double> dt = clock::now() - t0;
            if (rep > 0) {
                best = std::min(best, dt);
            }
        }
        return best.count();
    };
    const double n = double(big.values.size());
    const auto report = [&](const char* name, double seconds) {
        std::cout << "  " << std::left << std::setw(24) << name << std::right << std::fixed
                  << std::setprecision(1) << std::setw(7) << n / seconds / 1e6 << " Melem/s "
                  << std::setprecision(2) << std::setw(6) << seconds * 1e9 / n << " ns/elem\n"
                  << std::defaultfloat;
    };

    std::cout << "throughput on (" << rows << ", " << k << "), best of " << reps << '\n';
    report("gumbel_softmax_f32 soft", best_of([&](std::uint64_t offset) {
               check(gumbel_softmax_f32(big.values.data(), out.data(), rows, k, 1, 1.0f, false,
                                        plan.seed(), offset),
                     "gumbel_softmax_f32");
           }));
    report("gumbel_sample_f32", best_of([&](std::uint64_t offset) {
               check(gumbel_sample_f32(big.values.data(), idx.data(), rows, k, 1, plan.seed(),
                                       offset),
                     "gumbel_sample_f32");
           }));
}

bool file_exists(const std::string& path) { return std::ifstream(path).good(); }

void run(int argc, char** argv) {
    const std::string default_logits = "examples/data/digits_logits.npy";
    const std::string default_labels = "examples/data/digits_labels.npy";
    if (argc > 3) {
        throw std::invalid_argument(std::string("usage: ") + argv[0] +
                                    " [logits.npy [labels.npy]]");
    }
    const std::string logits_path = argc > 1 ? argv[1] : default_logits;
    std::string labels_path = argc > 2 ? argv[2] : "";
    if (argc == 1 && file_exists(default_labels)) {
        labels_path = default_labels;
    }

    std::cout << "gumbel " << gumbel_version() << " (C++): Gumbel-Softmax on real logits\n";
    const Matrix logits = load_logits(logits_path);
    const auto labels = labels_path.empty() ? std::vector<std::int64_t>{}
                                            : load_labels(labels_path, logits);

    const auto probs = softmax(logits);
    std::vector<std::size_t> top(logits.rows);
    std::vector<double> maxp(logits.rows);
    for (std::size_t r = 0; r < logits.rows; ++r) {
        top[r] = argmax(logits.row(r), logits.classes);
        maxp[r] = probs[r * logits.classes + top[r]];
    }
    std::size_t correct = 0;
    for (std::size_t r = 0; r < labels.size(); ++r) {
        correct += labels[r] == static_cast<std::int64_t>(top[r]);
    }
    std::cout << "input   " << logits_path << ": " << logits.rows << " rows x "
              << logits.classes << " classes\n"
              << std::fixed << std::setprecision(4)
              << "softmax mean max-probability " << mean(maxp);
    if (!labels.empty()) {
        std::cout << "; classifier accuracy " << percent(double(correct) / double(labels.size()));
    }
    std::cout << std::defaultfloat << "\n\n";

    NoisePlan plan(20240229u);
    temperature_sweep(logits, top, mean(maxp), plan);
    gumbel_max_check(logits, probs, top, labels, plan);
    throughput(logits, plan);
}

}  // namespace

int main(int argc, char** argv) {
    try {
        run(argc, argv);
        return 0;
    } catch (const GumbelError& e) {
        std::cerr << "demo_cpp: " << e.what() << " (status " << e.status() << ")\n";
    } catch (const std::exception& e) {
        std::cerr << "demo_cpp: " << e.what() << '\n';
    }
    return 1;
}
