/* The C ABI seen from C: every function is callable from the header alone,
 * good calls succeed with coupled outputs, bad input returns its status and
 * a message without touching the outputs. Prints "N passed, N failed". */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "gumbel.h"

static int passed, failed;

#define CHECK(cond)                                                        \
    do {                                                                   \
        if (cond) {                                                        \
            passed++;                                                      \
        } else {                                                           \
            failed++;                                                      \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                  \
    } while (0)

/* True if the last error message contains `word`. */
static int message_has(const char *word) {
    char msg[256];
    size_t n = gumbel_last_error(msg, sizeof msg);
    return n > 0 && n < sizeof msg && strstr(msg, word) != NULL;
}

static void test_version(void) {
    char expected[64];
    snprintf(expected, sizeof expected, "%d.%d.%d", GUMBEL_VERSION_MAJOR, GUMBEL_VERSION_MINOR,
             GUMBEL_VERSION_PATCH);
    CHECK(strcmp(gumbel_version(), expected) == 0);
    CHECK(strcmp(gumbel_status_str(GUMBEL_STATUS_OK), "ok") == 0);
    CHECK(strcmp(gumbel_status_str(4000000000u), "unknown status") == 0);
}

static void test_coupled_outputs(void) {
    enum { ROWS = 500, K = 7 };
    static float logits[ROWS * K], soft[ROWS * K], hard[ROWS * K];
    static int64_t idx[ROWS];
    for (int i = 0; i < ROWS * K; i++) logits[i] = (float)((i * 37) % 11) * 0.25f - 1.0f;
    logits[3] = -INFINITY; /* row 0, class 3 is masked */
    CHECK(gumbel_softmax_f32(logits, soft, ROWS, K, 1, 0.5f, false, 9, 100) == GUMBEL_STATUS_OK);
    CHECK(gumbel_softmax_f32(logits, hard, ROWS, K, 1, 0.5f, true, 9, 100) == GUMBEL_STATUS_OK);
    CHECK(gumbel_sample_f32(logits, idx, ROWS, K, 1, 9, 100) == GUMBEL_STATUS_OK);
    int coupled = 1, one_hot = 1, sums = 1;
    for (int r = 0; r < ROWS; r++) {
        const float *s = soft + r * K, *h = hard + r * K;
        int top = 0;
        float total = 0.0f, ones = 0.0f;
        for (int k = 0; k < K; k++) {
            if (s[k] > s[top]) top = k;
            total += s[k];
            ones += h[k];
        }
        coupled &= idx[r] == top && h[top] == 1.0f;
        one_hot &= ones == 1.0f;
        sums &= fabsf(total - 1.0f) < 1e-5f;
    }
    CHECK(coupled);
    CHECK(one_hot);
    CHECK(sums);
    CHECK(soft[3] == 0.0f && hard[3] == 0.0f);
}

static void test_bad_input(void) {
    float logits[6] = {0.0f, 1.0f, 2.0f, 3.0f, 4.0f, 5.0f};
    float out[6] = {7, 7, 7, 7, 7, 7};
    int64_t idx[2] = {-1, -1};
    CHECK(gumbel_softmax_f32(NULL, out, 2, 3, 1, 1.0f, false, 0, 0) == GUMBEL_STATUS_NULL_POINTER);
    CHECK(message_has("logits"));
    CHECK(gumbel_softmax_f32(logits, out, 2, 0, 1, 1.0f, false, 0, 0) == GUMBEL_STATUS_INVALID_SHAPE);
    CHECK(gumbel_softmax_f32(logits, out, SIZE_MAX, 3, 2, 1.0f, false, 0, 0) == GUMBEL_STATUS_SIZE_OVERFLOW);
    CHECK(gumbel_softmax_f32(logits, out, 2, 3, 1, NAN, false, 0, 0) == GUMBEL_STATUS_INVALID_TEMPERATURE);
    CHECK(message_has("tau"));
    CHECK(gumbel_tempered_softmax_f32(logits, out, 2, 3, 1, 0.0f) == GUMBEL_STATUS_INVALID_TEMPERATURE);
    CHECK(gumbel_noise_f32(out, 6, 0.0f, -1.0f, 0, 0) == GUMBEL_STATUS_INVALID_PARAMETER);
    CHECK(gumbel_softmax_f32(logits, logits + 2, 1, 3, 1, 1.0f, false, 0, 0) == GUMBEL_STATUS_OVERLAP);
    logits[4] = NAN;
    CHECK(gumbel_sample_f32(logits, idx, 2, 3, 1, 0, 0) == GUMBEL_STATUS_INVALID_LOGITS);
    CHECK(message_has("row 1, class 1"));
    logits[3] = logits[4] = logits[5] = -INFINITY;
    CHECK(gumbel_sample_f32(logits, idx, 2, 3, 1, 0, 0) == GUMBEL_STATUS_ALL_MASKED);
    CHECK(message_has("row 1"));
    int untouched = idx[0] == -1 && idx[1] == -1;
    for (int i = 0; i < 6; i++) untouched &= out[i] == 7.0f;
    CHECK(untouched);
    CHECK(gumbel_softmax_f32(NULL, NULL, 0, 3, 1, 1.0f, true, 0, 0) == GUMBEL_STATUS_OK);
}

static void test_noise(void) {
    enum { N = 100000 };
    static double g[N];
    CHECK(gumbel_noise_f64(g, N, 0.0, 1.0, 1, 2) == GUMBEL_STATUS_OK);
    double mean = 0.0;
    int finite = 1;
    for (int i = 0; i < N; i++) {
        mean += g[i] / N;
        finite &= isfinite(g[i]);
    }
    CHECK(finite);
    CHECK(fabs(mean - 0.5772156649) < 0.02); /* 5 standard errors */
    CHECK(gumbel_streams(1, N, 1) == 7);
}

/* Concrete family: the log-space sample is the log of the soft one, the
 * ExpConcrete log-density is the Concrete one plus sum_k x_k, and relaxed
 * Bernoulli samples lie in (0, 1) with finite log-densities. */
static void test_concrete(void) {
    enum { ROWS = 4, K = 5, N = 6 };
    double logits[ROWS * K], y[ROWS * K], x[ROWS * K], p[ROWS], q[ROWS];
    for (int i = 0; i < ROWS * K; i++) logits[i] = (double)((i * 7) % 5) * 0.5 - 1.0;
    logits[2] = -INFINITY;
    CHECK(gumbel_softmax_f64(logits, y, ROWS, K, 1, 0.5, false, 3, 4) == GUMBEL_STATUS_OK);
    CHECK(gumbel_log_softmax_f64(logits, x, ROWS, K, 1, 0.5, 3, 4) == GUMBEL_STATUS_OK);
    CHECK(gumbel_concrete_log_prob_f64(y, logits, p, ROWS, K, 1, 0.5) == GUMBEL_STATUS_OK);
    CHECK(gumbel_exp_concrete_log_prob_f64(x, logits, q, ROWS, K, 1, 0.5) == GUMBEL_STATUS_OK);
    int related = 1;
    for (int r = 0; r < ROWS; r++) {
        double sum_x = 0.0;
        for (int k = 0; k < K; k++) {
            if (isfinite(x[r * K + k])) sum_x += x[r * K + k];
            related &= fabs(exp(x[r * K + k]) - y[r * K + k]) < 1e-12;
        }
        related &= fabs(q[r] - (p[r] + sum_x)) < 1e-9 * (1.0 + fabs(q[r]));
    }
    CHECK(related);
    y[0] = 0.0; /* an unmasked class at 0: off the open simplex */
    CHECK(gumbel_concrete_log_prob_f64(y, logits, p, ROWS, K, 1, 0.5) == GUMBEL_STATUS_INVALID_VALUE);
    CHECK(message_has("row 0"));

    const float bl[N] = {80.0f, -80.0f, 0.0f, 1.5f, -2.0f, 0.25f};
    float by[N], lp[N];
    CHECK(gumbel_relaxed_bernoulli_f32(bl, by, N, 1e-3f, false, 5, 6) == GUMBEL_STATUS_OK);
    CHECK(gumbel_relaxed_bernoulli_log_prob_f32(by, bl, lp, N, 1e-3f) == GUMBEL_STATUS_OK);
    int inside = 1;
    for (int j = 0; j < N; j++) inside &= by[j] > 0.0f && by[j] < 1.0f && isfinite(lp[j]);
    CHECK(inside);
    by[2] = 1.0f;
    CHECK(gumbel_relaxed_bernoulli_backward_f32(by, bl, lp, N, 1e-3f) == GUMBEL_STATUS_INVALID_VALUE);
    CHECK(message_has("y[2]"));
}

int main(void) {
    test_version();
    test_coupled_outputs();
    test_bad_input();
    test_noise();
    test_concrete();
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
