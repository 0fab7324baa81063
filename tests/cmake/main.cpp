// Built by tests/cmake/CMakeLists.txt against an installed gumbel: the C++
// wrapper and the C header from the install's include directory, the library
// through gumbel::gumbel (shared) or gumbel::gumbel_static. Checks a hard
// sample against the Gumbel-max indices of the same noise, and that an error
// arrives as gumbel::Error with the library's status.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include <gumbel.hpp>

int main() {
    const gumbel::Shape shape{64, 10};
    std::vector<float> logits(shape.size()), hard(shape.size());
    std::vector<std::int64_t> idx(shape.rows());
    for (std::size_t i = 0; i < logits.size(); i++)
        logits[i] = std::sin(0.37f * static_cast<float>(i));
    gumbel::Generator gen(7);
    const gumbel::Position at = gen.take(shape);
    gumbel::gumbel_softmax<float>(logits, hard, shape, 0.5f, true, at);
    gumbel::sample<float>(logits, idx, shape, at);
    for (std::size_t r = 0; r < shape.rows(); r++) {
        for (std::size_t k = 0; k < shape.classes; k++) {
            const float want = static_cast<std::int64_t>(k) == idx[r] ? 1.0f : 0.0f;
            if (hard[r * shape.classes + k] != want) {
                std::fprintf(stderr, "row %zu: the hard sample is not the one-hot of index %lld\n", r,
                             static_cast<long long>(idx[r]));
                return 1;
            }
        }
    }
    try {
        gumbel::gumbel_softmax<float>(logits, hard, shape, -1.0f, false, gen);
        std::fprintf(stderr, "a negative temperature was accepted\n");
        return 1;
    } catch (const gumbel::Error &e) {
        if (e.status() != GUMBEL_STATUS_INVALID_TEMPERATURE) {
            std::fprintf(stderr, "unexpected status %u: %s\n", e.status(), e.message().c_str());
            return 1;
        }
    }
    std::printf("gumbel %s through CMake: %zu rows sampled\n", gumbel_version(), shape.rows());
    return 0;
}
