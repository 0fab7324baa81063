/* Training through hard Gumbel-Softmax samples, end to end with gumbel.
 *
 * A categorical distribution softmax(theta) over K classes is fitted to a
 * target distribution p_target by gradient descent. Each step draws a batch
 * of B straight-through samples: the forward pass uses the exact one-hot
 * (hard) sample, the backward pass the soft sample's gradient (Jang et al.
 * 2017, straight-through Gumbel-Softmax). The loss is the squared distance
 * between the batch's class frequencies and the target,
 *     L = sum_k (mean_b y_bk - p_target_k)^2,
 * so dL/dy_bk = 2 (mean_b y_bk - p_target_k) / B. The temperature follows
 * the exponential annealing schedule of Jang et al.: tau_t = max(0.5,
 * exp(-1e-3 t)), updated every 100 steps.
 *
 * Every 100 steps it prints the loss (averaged over those steps), the
 * temperature and KL(p_target || softmax(theta)). The loss cannot fall
 * below the sampling noise of a batch, sum_k p_k (1 - p_k) / B, which it
 * prints too. It exits non-zero if the KL divergence did not fall by at
 * least a factor of 10.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "gumbel.h"

enum { K = 8, B = 256, STEPS = 1500, REPORT = 100 };

/* Prints the library's message for a failed call and exits. */
static void check(gumbel_status st, const char *what) {
    if (st != GUMBEL_STATUS_OK) {
        char msg[512];
        gumbel_last_error(msg, sizeof msg);
        fprintf(stderr, "%s: %s: %s\n", what, gumbel_status_str(st), msg);
        exit(1);
    }
}

static double kl_to_model(const double *p_target, const float *theta) {
    float q[K];
    check(gumbel_tempered_softmax_f32(theta, q, 1, K, 1, 1.0f), "gumbel_tempered_softmax_f32");
    double kl = 0.0;
    for (int k = 0; k < K; k++) {
        if (p_target[k] > 0.0) kl += p_target[k] * log(p_target[k] / q[k]);
    }
    return kl;
}

int main(void) {
    static float theta_batch[B * K], hard[B * K], soft[B * K], grad_out[B * K], grad[B * K];
    const double p_target[K] = {0.30, 0.20, 0.15, 0.12, 0.10, 0.07, 0.04, 0.02};
    float theta[K] = {0};
    const float learning_rate = 1.0f;
    const uint64_t seed = 2017;
    uint64_t offset = 0;

    printf("fitting softmax(theta) over %d classes to a target through hard samples\n", K);
    printf("batch %d, learning rate %.2f, tau_t = max(0.5, exp(-1e-3 t)) every 100 steps\n\n",
           B, (double)learning_rate);
    double floor = 0.0;
    for (int k = 0; k < K; k++) floor += p_target[k] * (1.0 - p_target[k]) / B;
    printf("the loss of the exact model is %.5f on average (batch sampling noise)\n\n", floor);
    printf("   step    tau   loss (mean)   KL(target || model)\n");
    const double kl_start = kl_to_model(p_target, theta);
    printf("  %5d  %5.3f   %11s   %19.5f\n", 0, 1.0, "-", kl_start);

    double loss_sum = 0.0;
    for (int step = 1; step <= STEPS; step++) {
        double tau = 0.0;
        check(gumbel_schedule_exponential(1.0, 1e-3, 0.5, (uint64_t)step, 100, &tau),
              "gumbel_schedule_exponential");
        for (int b = 0; b < B; b++) {
            for (int k = 0; k < K; k++) theta_batch[b * K + k] = theta[k];
        }
        /* Forward: hard samples; the soft ones with the same (seed, offset)
         * share their noise, so they are the samples the gradient needs. */
        check(gumbel_softmax_f32(theta_batch, hard, B, K, 1, (float)tau, true, seed, offset),
              "gumbel_softmax_f32 (hard)");
        check(gumbel_softmax_f32(theta_batch, soft, B, K, 1, (float)tau, false, seed, offset),
              "gumbel_softmax_f32 (soft)");
        offset += gumbel_streams(B, K, 1);

        double freq[K] = {0};
        for (int b = 0; b < B; b++) {
            for (int k = 0; k < K; k++) freq[k] += hard[b * K + k] / B;
        }
        double loss = 0.0;
        for (int k = 0; k < K; k++) loss += (freq[k] - p_target[k]) * (freq[k] - p_target[k]);
        loss_sum += loss;
        for (int b = 0; b < B; b++) {
            for (int k = 0; k < K; k++) grad_out[b * K + k] = (float)(2.0 * (freq[k] - p_target[k]) / B);
        }

        /* Backward: straight-through, the soft sample's vector-Jacobian product. */
        check(gumbel_softmax_backward_f32(soft, grad_out, grad, B, K, 1, (float)tau),
              "gumbel_softmax_backward_f32");
        for (int k = 0; k < K; k++) {
            float g = 0.0f;
            for (int b = 0; b < B; b++) g += grad[b * K + k];
            theta[k] -= learning_rate * g;
        }

        if (step % REPORT == 0) {
            printf("  %5d  %5.3f   %11.5f   %19.5f\n", step, tau, loss_sum / REPORT,
                   kl_to_model(p_target, theta));
            loss_sum = 0.0;
        }
    }

    float q[K];
    check(gumbel_tempered_softmax_f32(theta, q, 1, K, 1, 1.0f), "gumbel_tempered_softmax_f32");
    printf("\n  class   target   model\n");
    for (int k = 0; k < K; k++) printf("  %5d   %6.3f  %6.3f\n", k, p_target[k], (double)q[k]);
    const double kl_end = kl_to_model(p_target, theta);
    printf("\nKL(target || model): %.5f -> %.5f\n", kl_start, kl_end);
    return kl_end < kl_start / 10.0 ? 0 : 1;
}
