/* The library from many C threads at once: 8 pthreads call the samplers,
 * gradients, densities and distribution functions through the ABI while a
 * ninth keeps changing gumbel_set_num_threads; every result must equal, bit
 * for bit, the one computed before on one worker thread, and each thread's
 * failed call must leave that thread's own message. Prints a summary; exits
 * 1 on any mismatch. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gumbel.h"

enum { OUTER = 100, CLASSES = 120, INNER = 3, LEN = OUTER * CLASSES * INNER, ROWS = OUTER * INNER };
enum { CALLS = 12, WORKERS = 8, ROUNDS = 3 };

static float l32[LEN], y32[LEN], g32[LEN], p32[LEN], tau32[ROWS];
static double l64[LEN], y64[LEN], g64[LEN], p64[LEN], tau64[ROWS];
static unsigned char reference[CALLS][LEN * 8];
static volatile int stop;
static int failures;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* Runs call `c` into `out` (LEN * 8 bytes); returns the bytes written. */
static size_t run(int c, unsigned char *out) {
    float *f = (float *)out;
    double *d = (double *)out;
    int64_t *ix = (int64_t *)out;
    gumbel_status s = 99;
    size_t n = 0;
    switch (c) {
    case 0: s = gumbel_softmax_f32(l32, f, OUTER, CLASSES, INNER, 0.5f, false, 9, 1); n = LEN * 4; break;
    case 1: s = gumbel_softmax_f64(l64, d, OUTER, CLASSES, INNER, 0.5, true, 9, 1); n = LEN * 8; break;
    case 2: s = gumbel_softmax_per_row_f32(l32, f, OUTER, CLASSES, INNER, tau32, false, 9, 1); n = LEN * 4; break;
    case 3: s = gumbel_sample_f64(l64, ix, OUTER, CLASSES, INNER, 9, 1); n = ROWS * 8; break;
    case 4: s = gumbel_log_softmax_f32(l32, f, OUTER, CLASSES, INNER, 2.0f, 9, 1); n = LEN * 4; break;
    case 5: s = gumbel_noise_f64(d, LEN, 0.0, 1.0, 9, 1); n = LEN * 8; break;
    case 6: s = gumbel_softmax_backward_f32(y32, g32, f, OUTER, CLASSES, INNER, 0.5f); n = LEN * 4; break;
    case 7: s = gumbel_softmax_grad_tau_per_row_f64(y64, g64, OUTER, CLASSES, INNER, tau64, d); n = ROWS * 8; break;
    case 8: s = gumbel_concrete_log_prob_f64(y64, l64, d, OUTER, CLASSES, INNER, 1.0); n = ROWS * 8; break;
    case 9: s = gumbel_relaxed_bernoulli_f32(l32, f, LEN, 0.5f, true, 9, 1); n = LEN * 4; break;
    case 10: s = gumbel_relaxed_bernoulli_log_prob_f64(p64, l64, d, LEN, 0.5); n = LEN * 8; break;
    case 11: s = gumbel_dist_icdf_f32(p32, f, LEN, 0.5f, 2.0f); n = LEN * 4; break;
    }
    if (s != GUMBEL_STATUS_OK) {
        fprintf(stderr, "call %d: status %u\n", c, s);
        exit(1);
    }
    return n;
}

static void *changer(void *arg) {
    static const size_t counts[] = {1, 2, 7, 3, 0};
    long k = 0;
    (void)arg;
    while (!stop) {
        if (gumbel_set_num_threads(counts[k % 5]) != GUMBEL_STATUS_OK) {
            fprintf(stderr, "gumbel_set_num_threads failed\n");
            exit(1);
        }
        k++;
    }
    return (void *)k;
}

static void *worker(void *arg) {
    long t = (long)arg;
    unsigned char *out = malloc(LEN * 8);
    char msg[128], want[32];
    int r, j;
    for (r = 0; r < ROUNDS; r++) {
        for (j = 0; j < CALLS; j++) {
            int c = (int)((j * 5 + t * 3 + r) % CALLS);
            size_t n = run(c, out);
            if (memcmp(out, reference[c], n) != 0) {
                pthread_mutex_lock(&lock);
                failures++;
                fprintf(stderr, "thread %ld: call %d differs from the one-thread result\n", t, c);
                pthread_mutex_unlock(&lock);
            }
        }
        /* Per-thread messages: the message names this thread's length. */
        if (gumbel_noise_f32(NULL, (size_t)t + 1, 0.0f, 1.0f, 0, 0) != GUMBEL_STATUS_NULL_POINTER) {
            failures++;
        }
        gumbel_last_error(msg, sizeof msg);
        snprintf(want, sizeof want, "%ld", t + 1);
        if (strstr(msg, "out") == NULL || strstr(msg, want) == NULL) {
            pthread_mutex_lock(&lock);
            failures++;
            fprintf(stderr, "thread %ld: foreign message %s\n", t, msg);
            pthread_mutex_unlock(&lock);
        }
    }
    free(out);
    return NULL;
}

int main(void) {
    pthread_t workers[WORKERS], ch;
    void *changes;
    long t;
    int c, k;
    for (k = 0; k < LEN; k++) {
        l64[k] = (double)((k * 2654435761u >> 5) % 997) / 100.0 - 5.0;
        l32[k] = (float)l64[k];
        g64[k] = l64[k] / 10.0;
        g32[k] = (float)g64[k];
        p64[k] = (double)(k % 999 + 1) / 1000.0;
        p32[k] = (float)p64[k];
    }
    for (k = 0; k < ROWS; k++) {
        tau64[k] = 0.3 + k % 4;
        tau32[k] = (float)tau64[k];
    }
    if (gumbel_tempered_softmax_f64(l64, y64, OUTER, CLASSES, INNER, 1.0) != GUMBEL_STATUS_OK) return 1;
    for (k = 0; k < LEN; k++) y32[k] = (float)y64[k];
    gumbel_set_num_threads(1);
    for (c = 0; c < CALLS; c++) run(c, reference[c]);
    gumbel_set_num_threads(0);
    pthread_create(&ch, NULL, changer, NULL);
    for (t = 0; t < WORKERS; t++) pthread_create(&workers[t], NULL, worker, (void *)t);
    for (t = 0; t < WORKERS; t++) pthread_join(workers[t], NULL);
    stop = 1;
    pthread_join(ch, &changes);
    gumbel_set_num_threads(0);
    printf("concurrency: %d threads x %d rounds x %d calls, %ld thread-count changes, %d mismatches\n",
           WORKERS, ROUNDS, CALLS, (long)changes, failures);
    return failures != 0;
}
