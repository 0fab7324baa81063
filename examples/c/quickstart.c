/* The README's quick start: one Gumbel-Softmax sample and one Gumbel-max draw. */
#include <math.h>
#include <stdio.h>
#include "gumbel.h"

int main(void) {
    const float logits[2 * 3] = {2.0f, 0.5f, -1.0f,   0.0f, 0.0f, -INFINITY};
    float y[2 * 3];
    int64_t idx[2];
    uint64_t seed = 42, offset = 0;
    gumbel_status st = gumbel_softmax_f32(logits, y, 2, 3, 1, 0.5f, false, seed, offset);
    if (st == GUMBEL_STATUS_OK)
        st = gumbel_sample_f32(logits, idx, 2, 3, 1, seed, offset); /* same noise: argmax of y */
    if (st != GUMBEL_STATUS_OK) {
        char msg[256];
        gumbel_last_error(msg, sizeof msg);
        fprintf(stderr, "gumbel: %s: %s\n", gumbel_status_str(st), msg);
        return 1;
    }
    for (int r = 0; r < 2; r++)
        printf("row %d: y = [%.3f %.3f %.3f], Gumbel-max class %lld\n", r, y[3 * r], y[3 * r + 1],
               y[3 * r + 2], (long long)idx[r]);
    offset += gumbel_streams(2, 3, 1); /* the next independent call starts here */
    return 0;
}
