// The C quick start in C++ with gumbel.hpp: soft and hard Gumbel-Softmax
// samples and Gumbel-max indices from one generator, errors as exceptions.
#include <cmath>
#include <cstdio>
#include <vector>

#include "gumbel.hpp"

int main() {
    const gumbel::Shape shape{2, 3}; // two rows of three classes
    const std::vector<float> logits{2.0f, 0.5f, -1.0f, 0.0f, 0.0f, -INFINITY};
    std::vector<float> soft(shape.size()), hard(shape.size());
    std::vector<std::int64_t> idx(shape.rows());
    gumbel::Generator gen(42);
    try {
        const gumbel::Position at = gen.take(shape); // one draw of noise for three views of it
        gumbel::gumbel_softmax<float>(logits, soft, shape, 0.5f, false, at);
        gumbel::gumbel_softmax<float>(logits, hard, shape, 0.5f, true, at);
        gumbel::sample<float>(logits, idx, shape, at);
        for (std::size_t r = 0; r < shape.rows(); r++)
            std::printf("row %zu: soft %.3f %.3f %.3f  hard %.0f %.0f %.0f  index %lld\n", r,
                        soft[3 * r], soft[3 * r + 1], soft[3 * r + 2], hard[3 * r], hard[3 * r + 1],
                        hard[3 * r + 2], (long long)idx[r]);
        gumbel::gumbel_softmax<float>(logits, soft, shape, -1.0f, false, gen); // throws
    } catch (const gumbel::Error &e) {
        std::printf("gumbel::Error %u: %s\n", e.status(), e.message().c_str());
    }
    std::printf("next offset: %llu\n", (unsigned long long)gen.offset());
    return 0;
}
