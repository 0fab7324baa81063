// Second translation unit: calls through the header and checks both units agree.
#include <cstdio>
#include <cstring>
#include <vector>

#include "gumbel.h"

const char *version_from_unit_a();

int main() {
    std::vector<float> logits{0.0f, 1.0f, 2.0f}, y(3);
    const gumbel_status st = gumbel_softmax_f32(logits.data(), y.data(), 1, 3, 1, 1.0f, false, 1, 0);
    const bool ok = st == GUMBEL_STATUS_OK && std::strcmp(version_from_unit_a(), gumbel_version()) == 0;
    std::printf("%d passed, %d failed\n", ok ? 1 : 0, ok ? 0 : 1);
    return ok ? 0 : 1;
}
