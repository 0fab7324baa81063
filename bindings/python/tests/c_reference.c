/* Writes the bytes of a few sampling calls made straight through the C ABI, for
 * the Python tests to compare bit for bit with the same calls made from Python.
 * Inputs: logits[i] = ((37 i) mod 23 - 11) / 4 (exact in
 * both precisions), shape (outer, classes, inner) =
 * (5, 7, 3); seed 20240611, offset 3. Output on stdout, in order:
 * gumbel_softmax_f32 soft, _f32 hard, _f64 soft, gumbel_sample_f64 indices,
 * gumbel_log_softmax_f32 (tau 0.5), gumbel_noise_f64 (n 101, loc 1, scale 2),
 * gumbel_relaxed_bernoulli_f32 (the 105 logits, tau 0.7). */
#include <stdio.h>
#include <stdlib.h>

#include "gumbel.h"

#define OUTER 5
#define CLASSES 7
#define INNER 3
#define N (OUTER * CLASSES * INNER)

static void ok(gumbel_status st) {
    if (st != GUMBEL_STATUS_OK) {
        char msg[256];
        gumbel_last_error(msg, sizeof msg);
        fprintf(stderr, "c_reference: %s: %s\n", gumbel_status_str(st), msg);
        exit(1);
    }
}

int main(void) {
    static float lf[N], yf[N];
    static double ld[N], yd[N], noise[101];
    static int64_t idx[OUTER * INNER];
    const uint64_t seed = 20240611u, offset = 3u;
    for (int i = 0; i < N; i++) {
        ld[i] = (double)((37 * i) % 23 - 11) / 4.0;
        lf[i] = (float)ld[i];
    }
    ok(gumbel_softmax_f32(lf, yf, OUTER, CLASSES, INNER, 0.5f, false, seed, offset));
    fwrite(yf, sizeof yf[0], N, stdout);
    ok(gumbel_softmax_f32(lf, yf, OUTER, CLASSES, INNER, 0.5f, true, seed, offset));
    fwrite(yf, sizeof yf[0], N, stdout);
    ok(gumbel_softmax_f64(ld, yd, OUTER, CLASSES, INNER, 0.5, false, seed, offset));
    fwrite(yd, sizeof yd[0], N, stdout);
    ok(gumbel_sample_f64(ld, idx, OUTER, CLASSES, INNER, seed, offset));
    fwrite(idx, sizeof idx[0], OUTER * INNER, stdout);
    ok(gumbel_log_softmax_f32(lf, yf, OUTER, CLASSES, INNER, 0.5f, seed, offset));
    fwrite(yf, sizeof yf[0], N, stdout);
    ok(gumbel_noise_f64(noise, 101, 1.0, 2.0, seed, offset));
    fwrite(noise, sizeof noise[0], 101, stdout);
    ok(gumbel_relaxed_bernoulli_f32(lf, yf, N, 0.7f, false, seed, offset));
    fwrite(yf, sizeof yf[0], N, stdout);
    return 0;
}
