/* The C ABI seen from C: every function is callable from the header alone,
 * good calls succeed with coupled outputs, bad input returns its status and
 * a message without touching the outputs. Prints "N passed, N failed". */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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

static void test_backward(void) {
    /* sum_k y_k (v_k - <v, y>) = 0, so every gradient row sums to 0. */
    enum { ROWS = 64, K = 5 };
    static float logits[ROWS * K], y[ROWS * K], v[ROWS * K], g[ROWS * K];
    for (int i = 0; i < ROWS * K; i++) {
        logits[i] = (float)((i * 13) % 7) * 0.5f - 1.5f;
        v[i] = (float)((i * 29) % 17) * 0.25f - 2.0f;
    }
    logits[2] = -INFINITY; /* row 0, class 2 is masked */
    CHECK(gumbel_softmax_f32(logits, y, ROWS, K, 1, 0.7f, false, 3, 0) == GUMBEL_STATUS_OK);
    CHECK(gumbel_softmax_backward_f32(y, v, g, ROWS, K, 1, 0.7f) == GUMBEL_STATUS_OK);
    int sums = 1;
    for (int r = 0; r < ROWS; r++) {
        float total = 0.0f, scale = 0.0f;
        for (int k = 0; k < K; k++) {
            total += g[r * K + k];
            scale += fabsf(g[r * K + k]);
        }
        sums &= fabsf(total) <= 1e-5f * (1.0f + scale);
    }
    CHECK(sums);
    CHECK(g[2] == 0.0f);
    CHECK(gumbel_softmax_backward_f32(y, v, y, ROWS, K, 1, 0.7f) == GUMBEL_STATUS_OVERLAP);
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

/* A child forked after a parallel call can still make parallel calls (the
 * worker pool is rebuilt there); an alarm turns a hang into a failure. */
static void test_fork(void) {
    enum { N = 1 << 20 };
    float *g = malloc(N * sizeof *g);
    if (g == NULL) {
        failed++;
        return;
    }
    CHECK(gumbel_noise_f32(g, N, 0.0f, 1.0f, 5, 0) == GUMBEL_STATUS_OK);
    const float first = g[N - 1];
    pid_t child = fork();
    if (child == 0) {
        alarm(60);
        int ok = gumbel_noise_f32(g, N, 0.0f, 1.0f, 5, 0) == GUMBEL_STATUS_OK && g[N - 1] == first;
        ok = ok && gumbel_set_num_threads(2) == GUMBEL_STATUS_OK;
        ok = ok && gumbel_noise_f32(g, N, 0.0f, 1.0f, 5, 0) == GUMBEL_STATUS_OK && g[N - 1] == first;
        _exit(ok ? 0 : 1);
    }
    int status = -1;
    CHECK(child > 0 && waitpid(child, &status, 0) == child);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    free(g);
}

static void test_threads(void) {
    CHECK(gumbel_num_threads() >= 1);
    CHECK(gumbel_set_num_threads(3) == GUMBEL_STATUS_OK);
    CHECK(gumbel_num_threads() == 3);
    CHECK(gumbel_set_num_threads(1000000) == GUMBEL_STATUS_INVALID_PARAMETER);
    CHECK(gumbel_num_threads() == 3);
    CHECK(gumbel_set_num_threads(0) == GUMBEL_STATUS_OK);
}

static void test_dist_and_schedule(void) {
    /* The tails stay finite in float; in place works; KL links libm's lgamma_r. */
    float x[3] = {-5.0f, 40.0f, 0.0f};
    float lp[3], v = 0.0f;
    CHECK(gumbel_dist_log_pdf_f32(x, lp, 3, 0.0f, 1.0f) == GUMBEL_STATUS_OK);
    CHECK(fabsf(lp[0] - (5.0f - expf(5.0f))) < 1e-4f);
    CHECK(gumbel_dist_sf_f32(x, x, 3, 0.0f, 1.0f) == GUMBEL_STATUS_OK);
    CHECK(x[1] > 4.2e-18f && x[1] < 4.3e-18f);
    float p[2] = {0.5f, 1.5f};
    CHECK(gumbel_dist_icdf_f32(p, lp, 2, 0.0f, 1.0f) == GUMBEL_STATUS_INVALID_VALUE);
    CHECK(message_has("x[1]"));
    double kl = -1.0;
    CHECK(gumbel_dist_kl_f64(0.0, 1.0, 1.0, 1.0, &kl) == GUMBEL_STATUS_OK);
    CHECK(fabs(kl - (exp(1.0) - 2.0)) < 1e-15);
    CHECK(gumbel_dist_mean_f32(0.0f, -1.0f, &v) == GUMBEL_STATUS_INVALID_PARAMETER);
    double tau = 0.0;
    CHECK(gumbel_schedule_exponential(1.0, 1e-4, 0.5, 1234, 500, &tau) == GUMBEL_STATUS_OK);
    CHECK(tau == exp(-0.1));
    CHECK(gumbel_schedule_cosine(1.0, 0.5, 0, 0, &tau) == GUMBEL_STATUS_INVALID_PARAMETER);
    CHECK(message_has("total_steps"));
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
    test_backward();
    test_noise();
    test_threads();
    test_fork();
    test_dist_and_schedule();
    test_concrete();
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
