/*
 * demo.c - Gumbel-Softmax on real classifier logits, through the C ABI.
 *
 * Usage: demo [logits.npy [labels.npy]]
 *
 * logits.npy must be a float32 ('<f4') C-ordered (rows, classes) array;
 * labels.npy, if given, an int64 ('<i8') (rows,) array of class indices.
 * With no arguments the demo reads examples/data/digits_logits.npy and, when
 * it is there, examples/data/digits_labels.npy (run from the repository root).
 *
 * It prints: a summary of the input; a temperature sweep of soft and hard
 * Gumbel-Softmax samples; a check that Gumbel-max draws follow the softmax
 * for three rows; and the throughput of the samplers.
 *
 * Set GUMBEL_DEMO_QUICK=1 for fewer draws and a small timing run (for
 * valgrind or CI); the statistics are then noisier.
 *
 * Build from the repository root, after `cargo build --release`:
 *   cc -std=c99 -O2 -Wall -Wextra -Werror -Iinclude -Iexamples/common \
 *      examples/c/demo.c examples/common/npy.c -o target/release/demo_c \
 *      -Ltarget/release -lgumbel -lm -Wl,-rpath,"$PWD/target/release"
 *
 * Under valgrind, add --suppressions=examples/common/valgrind.supp: it hides
 * the thread-local storage of rayon's worker threads, which live until exit.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime under -std=c99 */

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gumbel.h"
#include "npy.h"

#define DEFAULT_LOGITS "examples/data/digits_logits.npy"
#define DEFAULT_LABELS "examples/data/digits_labels.npy"

#define SEED 20240229u
#define DRAWS 100000u                      /* Gumbel-max draws per checked row */
#define DRAW_ELEMS_MAX ((size_t)1 << 24)   /* cap on draws * classes           */
#define BENCH_ELEMS ((size_t)1 << 22)      /* ~4M elements for the timing      */
#define BENCH_REPS 5

#define QUICK_DRAWS 10000u
#define QUICK_BENCH_ELEMS ((size_t)1 << 16)
#define QUICK_BENCH_REPS 2

static const float TAUS[] = {10.0f, 1.0f, 0.5f, 0.1f};
#define N_TAUS (sizeof TAUS / sizeof TAUS[0])

/* ---- errors ------------------------------------------------------------ */

/* Returns 0 for GUMBEL_STATUS_OK; otherwise prints the library's status
 * text and its last error message for this thread and returns 1. */
static int failed(gumbel_status st, const char *call)
{
    char msg[512];
    if (st == GUMBEL_STATUS_OK) {
        return 0;
    }
    msg[0] = '\0';
    gumbel_last_error(msg, sizeof msg);
    fprintf(stderr, "demo: %s failed: %s (status %u): %s\n", call,
            gumbel_status_str(st), (unsigned)st, msg[0] ? msg : "(no message)");
    return 1;
}

/* Every call gets stream ids of its own: `next` is where the next call
 * starts, and each call advances it by what gumbel_streams() says the call
 * consumes, so no two calls share noise. */
typedef struct {
    uint64_t seed;
    uint64_t next;
} noise_plan;

static int plan_take(noise_plan *plan, size_t outer, size_t classes, size_t inner,
                     uint64_t *offset)
{
    uint64_t used = gumbel_streams(outer, classes, inner);
    if (used == 0 || used > UINT64_MAX - plan->next) {
        fprintf(stderr, "demo: gumbel_streams(%zu, %zu, %zu) = %llu: cannot "
                "advance the offset\n", outer, classes, inner,
                (unsigned long long)used);
        return 1;
    }
    *offset = plan->next;
    plan->next += used;
    return 0;
}

/* ---- small helpers ----------------------------------------------------- */

static int quick_mode(void)
{
    const char *q = getenv("GUMBEL_DEMO_QUICK");
    return q != NULL && q[0] != '\0' && strcmp(q, "0") != 0;
}

static size_t argmax_f(const float *x, size_t n)
{
    size_t i, best = 0;
    for (i = 1; i < n; i++) {
        if (x[i] > x[best]) {
            best = i;
        }
    }
    return best;
}

static double entropy_f(const float *p, size_t n)
{
    double h = 0.0;
    size_t i;
    for (i = 0; i < n; i++) {
        if (p[i] > 0.0f) {
            h -= (double)p[i] * log((double)p[i]);
        }
    }
    return h;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Upper tail of the chi-square distribution, by the Wilson-Hilferty cube
 * root approximation (good to a few 1e-3 for df >= 3). */
static double chi2_pvalue(double x, int df)
{
    double k = (double)df, v = 2.0 / (9.0 * k);
    double z = (cbrt(x / k) - (1.0 - v)) / sqrt(v);
    return 0.5 * erfc(z / sqrt(2.0));
}

/* Pearson's statistic of `counts` (n draws in total) against `p`; classes
 * whose expected count is under 5 are pooled into one bin so the
 * chi-square approximation holds.  *df gets the degrees of freedom. */
static double chi2_stat(const size_t *counts, const float *p, size_t k, size_t n,
                        int *df)
{
    double stat = 0.0, pool_exp = 0.0, pool_obs = 0.0;
    int bins = 0;
    size_t c;
    for (c = 0; c < k; c++) {
        double e = (double)n * (double)p[c];
        if (e >= 5.0) {
            double d = (double)counts[c] - e;
            stat += d * d / e;
            bins++;
        } else {
            pool_exp += e;
            pool_obs += (double)counts[c];
        }
    }
    if (pool_exp > 0.0) {
        stat += (pool_obs - pool_exp) * (pool_obs - pool_exp) / pool_exp;
        bins++;
    }
    *df = bins - 1;
    return stat;
}

/* ---- the demo ---------------------------------------------------------- */

typedef struct {
    const float *logits; /* rows x k */
    size_t rows, k;
    const int64_t *labels; /* rows, or NULL */
    float *probs;          /* softmax(logits), rows x k */
    size_t *top;           /* argmax of each row of logits */
    double mean_maxp;
} dataset;

static int load_inputs(int argc, char **argv, npy_array *lg, npy_array *lb,
                       dataset *d)
{
    const char *lpath = argc > 1 ? argv[1] : DEFAULT_LOGITS;
    const char *bpath = argc > 2 ? argv[2] : NULL;
    char err[512], shape[96];
    size_t i;

    if (argc > 3 || (argc > 1 && (strcmp(argv[1], "-h") == 0 ||
                                  strcmp(argv[1], "--help") == 0))) {
        fprintf(stderr, "usage: %s [logits.npy [labels.npy]]\n"
                "  logits: float32 (rows, classes); labels: int64 (rows,)\n"
                "  default: %s (+ %s when present)\n",
                argv[0], DEFAULT_LOGITS, DEFAULT_LABELS);
        return 1;
    }
    if (argc == 1) {
        FILE *probe = fopen(DEFAULT_LABELS, "rb");
        if (probe != NULL) {
            fclose(probe);
            bpath = DEFAULT_LABELS;
        }
    }

    if (npy_load(lpath, lg, err, sizeof err) != 0) {
        fprintf(stderr, "demo: %s\n", err);
        return 1;
    }
    npy_shape_str(lg, shape, sizeof shape);
    if (strcmp(lg->dtype, "<f4") != 0) {
        fprintf(stderr, "demo: %s: logits must be float32 ('<f4'), got '%s'; "
                "convert with arr.astype(np.float32)\n", lpath, lg->dtype);
        return 1;
    }
    if (lg->ndim != 2) {
        fprintf(stderr, "demo: %s: logits must be a 2-D (rows, classes) array, "
                "got shape %s\n", lpath, shape);
        return 1;
    }
    if (lg->shape[0] == 0 || lg->shape[1] == 0) {
        fprintf(stderr, "demo: %s: shape %s is empty\n", lpath, shape);
        return 1;
    }
    d->logits = (const float *)lg->data;
    d->rows = lg->shape[0];
    d->k = lg->shape[1];

    if (bpath != NULL) {
        char bshape[96];
        if (npy_load(bpath, lb, err, sizeof err) != 0) {
            fprintf(stderr, "demo: %s\n", err);
            return 1;
        }
        npy_shape_str(lb, bshape, sizeof bshape);
        if (strcmp(lb->dtype, "<i8") != 0 || lb->ndim != 1 ||
            lb->shape[0] != d->rows) {
            fprintf(stderr, "demo: %s: labels must be int64 ('<i8') of shape "
                    "(%zu,), got '%s' %s\n", bpath, d->rows, lb->dtype, bshape);
            return 1;
        }
        d->labels = (const int64_t *)lb->data;
        for (i = 0; i < d->rows; i++) {
            if (d->labels[i] < 0 || (uint64_t)d->labels[i] >= (uint64_t)d->k) {
                fprintf(stderr, "demo: %s: label %lld of row %zu is not a class "
                        "index in [0, %zu)\n", bpath, (long long)d->labels[i], i,
                        d->k);
                return 1;
            }
        }
    }

    printf("input   %s  %s %s: %zu rows x %zu classes\n", lpath, lg->dtype, shape,
           d->rows, d->k);
    if (d->labels != NULL) {
        printf("labels  %s\n", bpath);
    }
    return 0;
}

static int summarise_input(dataset *d)
{
    double sum_maxp = 0.0, sum_h = 0.0;
    size_t r, correct = 0;

    if (failed(gumbel_tempered_softmax_f32(d->logits, d->probs, d->rows, d->k, 1,
                                           1.0f),
               "gumbel_tempered_softmax_f32")) {
        return 1;
    }
    for (r = 0; r < d->rows; r++) {
        const float *p = d->probs + r * d->k;
        d->top[r] = argmax_f(d->logits + r * d->k, d->k);
        sum_maxp += p[d->top[r]];
        sum_h += entropy_f(p, d->k);
        if (d->labels != NULL && (int64_t)d->top[r] == d->labels[r]) {
            correct++;
        }
    }
    d->mean_maxp = sum_maxp / (double)d->rows;
    printf("softmax mean max-probability %.4f, mean entropy %.4f nats", d->mean_maxp,
           sum_h / (double)d->rows);
    if (d->labels != NULL) {
        printf("; classifier accuracy %.2f %%",
               100.0 * (double)correct / (double)d->rows);
    }
    printf("\n\n");
    return 0;
}

static int temperature_sweep(const dataset *d, noise_plan *plan, float *soft,
                             float *hard)
{
    size_t t, r, c;
    uint64_t offset;

    /* Every temperature uses the same noise, so the rows show one sample
     * of Gumbel noise tempered differently. */
    if (plan_take(plan, d->rows, d->k, 1, &offset)) {
        return 1;
    }
    printf("temperature sweep, one noise draw per row shared by every tau "
           "(gumbel_softmax_f32, seed %llu)\n", (unsigned long long)plan->seed);
    printf("    tau | soft: entropy  max prob | hard: =argmax(logits)  "
           "=argmax(soft)\n");
    for (t = 0; t < N_TAUS; t++) {
        double sum_h = 0.0, sum_max = 0.0;
        size_t same_top = 0, same_soft = 0, not_one_hot = 0;

        /* soft and hard with the same seed and offset: the same noise */
        if (failed(gumbel_softmax_f32(d->logits, soft, d->rows, d->k, 1, TAUS[t],
                                      false, plan->seed, offset),
                   "gumbel_softmax_f32 (soft)") ||
            failed(gumbel_softmax_f32(d->logits, hard, d->rows, d->k, 1, TAUS[t],
                                      true, plan->seed, offset),
                   "gumbel_softmax_f32 (hard)")) {
            return 1;
        }
        for (r = 0; r < d->rows; r++) {
            const float *s = soft + r * d->k;
            const float *h = hard + r * d->k;
            size_t ones = 0, zeros = 0, hot = 0;
            size_t smax = argmax_f(s, d->k);
            sum_h += entropy_f(s, d->k);
            sum_max += s[smax];
            for (c = 0; c < d->k; c++) {
                if (h[c] == 1.0f) {
                    ones++;
                    hot = c;
                } else if (h[c] == 0.0f) {
                    zeros++;
                }
            }
            if (ones != 1 || zeros != d->k - 1) {
                not_one_hot++;
                continue;
            }
            same_top += hot == d->top[r];
            same_soft += hot == smax;
        }
        printf("  %5g | %13.4f  %8.4f | %19.2f %%  %11.2f %%\n", (double)TAUS[t],
               sum_h / (double)d->rows, sum_max / (double)d->rows,
               100.0 * (double)same_top / (double)d->rows,
               100.0 * (double)same_soft / (double)d->rows);
        if (not_one_hot > 0) {
            printf("          !! %zu hard rows are not exactly one-hot\n",
                   not_one_hot);
        }
    }
    printf("  the hard sample is argmax(logits + noise): the same at every tau; "
           "expected =argmax(logits): %.2f %%\n\n", 100.0 * d->mean_maxp);
    return 0;
}

/* Picks the row whose largest softmax probability is nearest `target`. */
static size_t row_nearest(const dataset *d, double target)
{
    size_t r, best = 0;
    double best_gap = INFINITY;
    for (r = 0; r < d->rows; r++) {
        double gap = fabs((double)d->probs[r * d->k + d->top[r]] - target);
        if (gap < best_gap) {
            best_gap = gap;
            best = r;
        }
    }
    return best;
}

static void print_row(const char *name, const float *x, const double *y, size_t k)
{
    size_t c, shown = k > 10 ? 10 : k;
    printf("    %-8s", name);
    for (c = 0; c < shown; c++) {
        printf(" %6.4f", x != NULL ? (double)x[c] : y[c]);
    }
    printf("%s\n", k > shown ? "  ..." : "");
}

static int gumbel_max_check(const dataset *d, noise_plan *plan)
{
    static const char *const kinds[3] = {"easy", "medium", "ambiguous"};
    const double targets[3] = {0.97, 0.75, 0.0};
    size_t draws = quick_mode() ? QUICK_DRAWS : DRAWS, picks[3], i, j, c, shown;
    float *tiled = NULL;
    int64_t *idx = NULL;
    size_t *counts = NULL;
    double *freq = NULL;
    int rc = 1;

    if (draws > DRAW_ELEMS_MAX / d->k) {
        draws = DRAW_ELEMS_MAX / d->k; /* very many classes: fewer draws */
    }
    if (draws < 1000) {
        printf("(Gumbel-max check skipped: %zu classes is too many)\n\n", d->k);
        return 0;
    }
    tiled = (float *)malloc(draws * d->k * sizeof *tiled);
    idx = (int64_t *)malloc(draws * sizeof *idx);
    counts = (size_t *)malloc(d->k * sizeof *counts);
    freq = (double *)malloc(d->k * sizeof *freq);
    if (tiled == NULL || idx == NULL || counts == NULL || freq == NULL) {
        fprintf(stderr, "demo: out of memory\n");
        goto done;
    }

    for (i = 0; i < 3; i++) {
        picks[i] = row_nearest(d, targets[i]);
    }
    printf("Gumbel-max draws vs softmax, %zu draws per row (gumbel_sample_f32)\n",
           draws);
    shown = d->k > 10 ? 10 : d->k;
    printf("    %-8s", "class");
    for (c = 0; c < shown; c++) {
        printf(" %6zu", c);
    }
    printf("\n");

    for (i = 0; i < 3; i++) {
        const size_t r = picks[i];
        const float *row = d->logits + r * d->k;
        const float *p = d->probs + r * d->k;
        uint64_t offset;
        double stat;
        int df;

        for (j = 0; j < draws; j++) {
            memcpy(tiled + j * d->k, row, d->k * sizeof *row);
        }
        if (plan_take(plan, draws, d->k, 1, &offset) ||
            failed(gumbel_sample_f32(tiled, idx, draws, d->k, 1, plan->seed, offset),
                   "gumbel_sample_f32")) {
            goto done;
        }
        memset(counts, 0, d->k * sizeof *counts);
        for (j = 0; j < draws; j++) {
            if (idx[j] < 0 || (uint64_t)idx[j] >= (uint64_t)d->k) {
                fprintf(stderr, "demo: gumbel_sample_f32 returned index %lld, not "
                        "in [0, %zu)\n", (long long)idx[j], d->k);
                goto done;
            }
            counts[idx[j]]++;
        }
        for (c = 0; c < d->k; c++) {
            freq[c] = (double)counts[c] / (double)draws;
        }
        stat = chi2_stat(counts, p, d->k, draws, &df);
        printf("  row %zu (%s", r, kinds[i]);
        if (d->labels != NULL) {
            printf(", label %lld", (long long)d->labels[r]);
        }
        printf(", max p %.3f): chi2 %.2f on %d df", (double)p[d->top[r]], stat, df);
        if (df > 0) {
            printf(", p-value %.3f", chi2_pvalue(stat, df));
        }
        printf("\n");
        print_row("softmax", p, NULL, d->k);
        print_row("sampled", NULL, freq, d->k);
    }
    printf("\n");
    rc = 0;
done:
    free(tiled);
    free(idx);
    free(counts);
    free(freq);
    return rc;
}

static int throughput(const dataset *d, noise_plan *plan)
{
    const size_t elems = quick_mode() ? QUICK_BENCH_ELEMS : BENCH_ELEMS;
    const int reps = quick_mode() ? QUICK_BENCH_REPS : BENCH_REPS;
    size_t rows = (elems + d->k - 1) / d->k, n, r, which;
    float *x = NULL, *y = NULL;
    int64_t *idx = NULL;
    int rc = 1;

    if (rows < d->rows) {
        rows = d->rows;
    }
    n = rows * d->k; /* no overflow: rows*k <= max(elems + k, count) */
    x = (float *)malloc(n * sizeof *x);
    y = (float *)malloc(n * sizeof *y);
    idx = (int64_t *)malloc(rows * sizeof *idx);
    if (x == NULL || y == NULL || idx == NULL) {
        fprintf(stderr, "demo: out of memory\n");
        goto done;
    }
    for (r = 0; r < rows; r++) {
        memcpy(x + r * d->k, d->logits + (r % d->rows) * d->k, d->k * sizeof *x);
    }

    printf("throughput on the logits tiled to (%zu, %zu) = %.2fM elements, "
           "best of %d\n", rows, d->k, (double)n / 1e6, reps);
    for (which = 0; which < 3; which++) {
        static const char *const names[3] = {"gumbel_softmax_f32 soft",
                                             "gumbel_softmax_f32 hard",
                                             "gumbel_sample_f32"};
        double times[BENCH_REPS + 1], best;
        int rep;
        for (rep = 0; rep <= reps; rep++) { /* rep 0 warms up */
            uint64_t offset;
            gumbel_status st;
            double t0;
            if (plan_take(plan, rows, d->k, 1, &offset)) {
                goto done;
            }
            t0 = now_s();
            if (which == 2) {
                st = gumbel_sample_f32(x, idx, rows, d->k, 1, plan->seed, offset);
            } else {
                st = gumbel_softmax_f32(x, y, rows, d->k, 1, 1.0f, which == 1,
                                        plan->seed, offset);
            }
            times[rep] = now_s() - t0;
            if (failed(st, names[which])) {
                goto done;
            }
        }
        qsort(times + 1, (size_t)reps, sizeof times[0], cmp_double);
        best = times[1];
        printf("  %-24s %7.1f Melem/s %6.2f ns/elem  %6.1f ms/call (median %.1f)\n",
               names[which], (double)n / best / 1e6, best * 1e9 / (double)n,
               best * 1e3, times[1 + reps / 2] * 1e3);
    }
    rc = 0;
done:
    free(x);
    free(y);
    free(idx);
    return rc;
}

int main(int argc, char **argv)
{
    npy_array lg, lb;
    dataset d;
    noise_plan plan;
    float *soft = NULL, *hard = NULL;
    int rc = 1;

    memset(&lg, 0, sizeof lg);
    memset(&lb, 0, sizeof lb);
    memset(&d, 0, sizeof d);
    plan.seed = SEED;
    plan.next = 0;

    printf("gumbel %s: Gumbel-Softmax on real classifier logits\n", gumbel_version());
    if (load_inputs(argc, argv, &lg, &lb, &d) != 0) {
        goto done;
    }
    /* rows * k is the element count npy_load already checked for overflow */
    d.probs = (float *)malloc(lg.count * sizeof(float));
    d.top = (size_t *)malloc(d.rows * sizeof(size_t));
    soft = (float *)malloc(lg.count * sizeof(float));
    hard = (float *)malloc(lg.count * sizeof(float));
    if (d.probs == NULL || d.top == NULL || soft == NULL || hard == NULL) {
        fprintf(stderr, "demo: out of memory\n");
        goto done;
    }
    if (summarise_input(&d) != 0 || temperature_sweep(&d, &plan, soft, hard) != 0 ||
        gumbel_max_check(&d, &plan) != 0 || throughput(&d, &plan) != 0) {
        goto done;
    }
    rc = 0;
done:
    free(soft);
    free(hard);
    free(d.probs);
    free(d.top);
    npy_free(&lg);
    npy_free(&lb);
    return rc;
}
