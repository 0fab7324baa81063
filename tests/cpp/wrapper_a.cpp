// The C++ wrapper included from two translation units links into one program
// (everything in gumbel.hpp is inline or a template); this unit holds main and
// checks the wrapper's behaviour against the C ABI called directly.
#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "gumbel.hpp"

std::string version_from_unit_b();
double mean_from_unit_b();

static int failures = 0;
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);          \
            ++failures;                                                                            \
        }                                                                                          \
    } while (0)

template <class F> static gumbel_status status_of(F f) {
    try {
        f();
    } catch (const gumbel::Error &e) {
        CHECK(!e.message().empty());
        CHECK(std::string(e.what()).find(e.message()) != std::string::npos);
        return e.status();
    }
    return GUMBEL_STATUS_OK;
}

int main() {
    CHECK(version_from_unit_b() == gumbel::version());
    CHECK(std::fabs(mean_from_unit_b() - 0.5772156649015329) < 1e-15);

    const gumbel::Shape shape{4, 5, 3};
    std::vector<float> logits(shape.size());
    for (std::size_t i = 0; i < logits.size(); i++) logits[i] = (float)((int)(i * 7 % 11) - 5) / 2.0f;
    std::vector<float> y(shape.size()), y_c(shape.size());

    // Same bits as the C call at the generator's first position; the generator advances.
    gumbel::Generator gen(42);
    gumbel::gumbel_softmax<float>(logits, y, shape, 0.5f, false, gen);
    CHECK(gen.offset() == gumbel_streams(4, 5, 3));
    CHECK(gumbel_softmax_f32(logits.data(), y_c.data(), 4, 5, 3, 0.5f, false, 42, 0) == GUMBEL_STATUS_OK);
    CHECK(std::memcmp(y.data(), y_c.data(), y.size() * sizeof(float)) == 0);
    gumbel::gumbel_softmax<float>(logits, y, shape, 0.5f, false, gen);
    CHECK(std::memcmp(y.data(), y_c.data(), y.size() * sizeof(float)) != 0);
    gumbel::gumbel_softmax<float>(logits, y, shape, 0.5f, false, gumbel::Position{42, 0});
    CHECK(std::memcmp(y.data(), y_c.data(), y.size() * sizeof(float)) == 0);
    CHECK(gumbel::Generator(1, 2) == gumbel::Generator(1, 2));

    // Gumbel-max indices are the argmax of the soft sample along the class axis.
    std::array<std::int64_t, 12> idx{};
    gumbel::sample<float>(logits, idx, shape, gumbel::Position{42, 0});
    for (std::size_t o = 0; o < 4; o++)
        for (std::size_t i = 0; i < 3; i++) {
            std::size_t best = 0;
            for (std::size_t k = 1; k < 5; k++)
                if (y_c[(o * 5 + k) * 3 + i] > y_c[(o * 5 + best) * 3 + i]) best = k;
            CHECK(idx[o * 3 + i] == (std::int64_t)best);
        }

    // Backward of the soft sample: rows of the gradient sum to 0.
    std::vector<double> yd(10), v(10, 0.0), g(10);
    std::vector<double> ld(10, 0.0);
    v[3] = 1.0;
    gumbel::gumbel_softmax<double>(ld, yd, gumbel::Shape{2, 5}, 1.0, false, gumbel::Position{1, 0});
    gumbel::gumbel_softmax_backward<double>(yd, v, g, gumbel::Shape{2, 5}, 1.0);
    double s = 0;
    for (int k = 0; k < 5; k++) s += g[k];
    CHECK(std::fabs(s) < 1e-15);
    CHECK(std::fabs(g[3] - yd[3] * (1 - yd[3])) < 1e-15);

    // Errors: status and message from the library; size mismatches before the call.
    std::vector<float> bad(logits);
    bad[7] = NAN;
    CHECK(status_of([&] { gumbel::gumbel_softmax<float>(bad, y, shape, 1.0f, false, gen); }) ==
          GUMBEL_STATUS_INVALID_LOGITS);
    CHECK(status_of([&] { gumbel::gumbel_softmax<float>(logits, y, shape, 0.0f, false, gen); }) ==
          GUMBEL_STATUS_INVALID_TEMPERATURE);
    CHECK(status_of([&] { gumbel::dist::mean<double>(0.0, -1.0); }) == GUMBEL_STATUS_INVALID_PARAMETER);
    CHECK(status_of([&] { gumbel::schedule::linear(1.0, 0.5, 1, 0); }) == GUMBEL_STATUS_INVALID_PARAMETER);
    bool threw = false;
    try {
        std::vector<float> small(3);
        gumbel::gumbel_softmax<float>(logits, small, shape, 1.0f, false, gen);
    } catch (const std::invalid_argument &) {
        threw = true;
    }
    CHECK(threw);

    // In-place distribution function, schedules, RAII thread guard.
    std::array<double, 3> z{-1.0, 0.0, 2.0};
    gumbel::dist::cdf<double>(z, z);
    CHECK(std::fabs(z[1] - std::exp(-1.0)) < 1e-15);
    CHECK(gumbel::schedule::exponential(1.0, 0.1, 0.5, 1000) == 0.5);
    const std::size_t before = gumbel::num_threads();
    {
        gumbel::ScopedNumThreads one(1);
        CHECK(gumbel::num_threads() == 1);
    }
    CHECK(gumbel::num_threads() == before);

    if (failures) return 1;
    std::puts("C++ wrapper: ok");
    return 0;
}
