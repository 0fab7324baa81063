// gumbel.hpp: header-only C++17 wrapper over the gumbel C ABI (gumbel.h).
//
// - Buffers are passed as gumbel::View<T> (pointer + size; built from any
//   contiguous container with data() and size(), e.g. std::vector or
//   std::array), checked against the Shape before the call.
// - A failed call throws gumbel::Error carrying the library's status code and
//   message (gumbel_last_error); a view whose size does not match the shape
//   throws std::invalid_argument before the library is called.
// - gumbel::Generator is a value type holding (seed, offset): each sampling
//   call given one uses its position and advances it by gumbel_streams(...),
//   so consecutive calls never reuse noise; pass a Position to replay a call.
// - Every function is a template over float and double, calling the _f32 or
//   _f64 twin. The library owns nothing on the caller's behalf; the one piece
//   of global state, the worker-pool size, has an RAII guard (ScopedNumThreads).
//
// Shapes, value ranges, statuses and formulas are those of gumbel.h.
#ifndef GUMBEL_HPP
#define GUMBEL_HPP

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "gumbel.h"

namespace gumbel {

/// A failed call: the library's status code and its message.
class Error : public std::runtime_error {
  public:
    Error(gumbel_status status, const std::string &message)
        : std::runtime_error(std::string(gumbel_status_str(status)) + ": " + message),
          status_(status), message_(message) {}
    /// The GUMBEL_STATUS_* code.
    gumbel_status status() const noexcept { return status_; }
    /// The library's detailed message (names the argument, row or value at fault).
    const std::string &message() const noexcept { return message_; }

  private:
    gumbel_status status_;
    std::string message_;
};

namespace detail {

inline std::string last_error() {
    std::string msg(gumbel_last_error(nullptr, 0) + 1, '\0');
    msg.resize(gumbel_last_error(&msg[0], msg.size()));
    return msg;
}

inline void check(gumbel_status status) {
    if (status != GUMBEL_STATUS_OK) throw Error(status, last_error());
}

template <class T, class F32, class F64> constexpr auto pick(F32 f32, F64 f64) {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                  "gumbel: float or double only");
    if constexpr (std::is_same_v<T, float>)
        return f32;
    else
        return f64;
}

} // namespace detail

/// A contiguous buffer: pointer + number of elements. Does not own its data.
template <class T> class View {
  public:
    View(T *data, std::size_t size) noexcept : data_(data), size_(size) {}
    /// Any contiguous container with data() and size() (std::vector, std::array, ...).
    template <class C, class = decltype(std::declval<C &>().data()),
              class = std::enable_if_t<std::is_convertible_v<decltype(std::declval<C &>().data()), T *>>>
    View(C &c) noexcept : data_(c.data()), size_(c.size()) {}
    T *data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }

  private:
    T *data_;
    std::size_t size_;
};

/// The (outer, classes, inner) view of a row-major tensor, class axis in the middle.
struct Shape {
    std::size_t outer;
    std::size_t classes;
    std::size_t inner = 1;
    /// Number of elements (throws std::overflow_error when it overflows).
    std::size_t size() const {
        const std::size_t max = static_cast<std::size_t>(-1);
        if ((classes != 0 && outer > max / classes) ||
            (inner != 0 && outer * classes > max / inner))
            throw std::overflow_error("gumbel: shape size overflows");
        return outer * classes * inner;
    }
    /// Number of rows (distributions): outer * inner.
    std::size_t rows() const { return outer * inner; }
};

/// A stream position: the (seed, offset) of one sampling call.
struct Position {
    std::uint64_t seed;
    std::uint64_t offset;
};

/// Stream ids one call on `shape` consumes.
inline std::uint64_t streams(const Shape &shape) {
    return gumbel_streams(shape.outer, shape.classes, shape.inner);
}

/// Owns (seed, offset); take() returns the position of one call and advances past it.
class Generator {
  public:
    explicit Generator(std::uint64_t seed, std::uint64_t offset = 0) noexcept
        : seed_(seed), offset_(offset) {}
    std::uint64_t seed() const noexcept { return seed_; }
    std::uint64_t offset() const noexcept { return offset_; }
    /// The position for one call on `shape`; the offset moves past its streams.
    Position take(const Shape &shape) {
        Position p{seed_, offset_};
        advance(streams(shape));
        return p;
    }
    /// Skips `n` stream ids (throws std::overflow_error past 2^64 - 1).
    void advance(std::uint64_t n) {
        if (offset_ + n < offset_) throw std::overflow_error("gumbel: generator offset exhausted");
        offset_ += n;
    }
    friend bool operator==(const Generator &a, const Generator &b) noexcept {
        return a.seed_ == b.seed_ && a.offset_ == b.offset_;
    }
    friend bool operator!=(const Generator &a, const Generator &b) noexcept { return !(a == b); }

  private:
    std::uint64_t seed_;
    std::uint64_t offset_;
};

namespace detail {
inline void expect_size(std::size_t got, std::size_t want, const char *name) {
    if (got != want)
        throw std::invalid_argument(std::string("gumbel: ") + name + " has " + std::to_string(got) +
                                    " elements, the shape needs " + std::to_string(want));
}
} // namespace detail

/// Gumbel-Softmax sample softmax((logits + g) / tau) (Jang et al. 2017), or its
/// one-hot argmax with `hard`. logits, out: shape.size() elements.
template <class T>
void gumbel_softmax(View<const T> logits, View<T> out, const Shape &shape, T tau, bool hard,
                    Position at) {
    detail::expect_size(logits.size(), shape.size(), "logits");
    detail::expect_size(out.size(), shape.size(), "out");
    detail::check(detail::pick<T>(gumbel_softmax_f32, gumbel_softmax_f64)(
        logits.data(), out.data(), shape.outer, shape.classes, shape.inner, tau, hard, at.seed,
        at.offset));
}
template <class T>
void gumbel_softmax(View<const T> logits, View<T> out, const Shape &shape, T tau, bool hard,
                    Generator &gen) {
    gumbel_softmax<T>(logits, out, shape, tau, hard, gen.take(shape));
}

/// Gumbel-max class indices argmax(logits + g), one per row: indices has shape.rows() elements.
template <class T>
void sample(View<const T> logits, View<std::int64_t> indices, const Shape &shape, Position at) {
    detail::expect_size(logits.size(), shape.size(), "logits");
    detail::expect_size(indices.size(), shape.rows(), "indices");
    detail::check(detail::pick<T>(gumbel_sample_f32, gumbel_sample_f64)(
        logits.data(), indices.data(), shape.outer, shape.classes, shape.inner, at.seed, at.offset));
}
template <class T>
void sample(View<const T> logits, View<std::int64_t> indices, const Shape &shape, Generator &gen) {
    sample<T>(logits, indices, shape, gen.take(shape));
}

/// ExpConcrete sample log_softmax((logits + g) / tau): the log of gumbel_softmax's sample.
template <class T>
void gumbel_log_softmax(View<const T> logits, View<T> out, const Shape &shape, T tau, Position at) {
    detail::expect_size(logits.size(), shape.size(), "logits");
    detail::expect_size(out.size(), shape.size(), "out");
    detail::check(detail::pick<T>(gumbel_log_softmax_f32, gumbel_log_softmax_f64)(
        logits.data(), out.data(), shape.outer, shape.classes, shape.inner, tau, at.seed, at.offset));
}

/// n = out.size() Gumbel(loc, scale) variates (layout of one row of n classes).
template <class T> void noise(View<T> out, T loc, T scale, Position at) {
    detail::check(detail::pick<T>(gumbel_noise_f32, gumbel_noise_f64)(out.data(), out.size(), loc,
                                                                       scale, at.seed, at.offset));
}
template <class T> void noise(View<T> out, T loc, T scale, Generator &gen) {
    noise<T>(out, loc, scale, gen.take(Shape{1, out.size() ? out.size() : 1, 1}));
}

/// softmax(logits / tau), no noise.
template <class T>
void tempered_softmax(View<const T> logits, View<T> out, const Shape &shape, T tau) {
    detail::expect_size(logits.size(), shape.size(), "logits");
    detail::expect_size(out.size(), shape.size(), "out");
    detail::check(detail::pick<T>(gumbel_tempered_softmax_f32, gumbel_tempered_softmax_f64)(
        logits.data(), out.data(), shape.outer, shape.classes, shape.inner, tau));
}

/// grad_logits = y * (v - <v, y>) / tau with v = grad_out (soft and straight-through).
template <class T>
void gumbel_softmax_backward(View<const T> y_soft, View<const T> grad_out, View<T> grad_logits,
                             const Shape &shape, T tau) {
    detail::expect_size(y_soft.size(), shape.size(), "y_soft");
    detail::expect_size(grad_out.size(), shape.size(), "grad_out");
    detail::expect_size(grad_logits.size(), shape.size(), "grad_logits");
    detail::check(detail::pick<T>(gumbel_softmax_backward_f32, gumbel_softmax_backward_f64)(
        y_soft.data(), grad_out.data(), grad_logits.data(), shape.outer, shape.classes, shape.inner,
        tau));
}

/// The temperature's gradient, summed over rows.
template <class T>
T gumbel_softmax_grad_tau(View<const T> y_soft, View<const T> grad_out, const Shape &shape, T tau) {
    detail::expect_size(y_soft.size(), shape.size(), "y_soft");
    detail::expect_size(grad_out.size(), shape.size(), "grad_out");
    T g = 0;
    detail::check(detail::pick<T>(gumbel_softmax_grad_tau_f32, gumbel_softmax_grad_tau_f64)(
        y_soft.data(), grad_out.data(), shape.outer, shape.classes, shape.inner, tau, &g));
    return g;
}

/// Concrete log-density per row (out: shape.rows() elements).
template <class T>
void concrete_log_prob(View<const T> y, View<const T> logits, View<T> out, const Shape &shape, T tau) {
    detail::expect_size(y.size(), shape.size(), "y");
    detail::expect_size(logits.size(), shape.size(), "logits");
    detail::expect_size(out.size(), shape.rows(), "out");
    detail::check(detail::pick<T>(gumbel_concrete_log_prob_f32, gumbel_concrete_log_prob_f64)(
        y.data(), logits.data(), out.data(), shape.outer, shape.classes, shape.inner, tau));
}

/// ExpConcrete log-density per row at log-simplex points x (out: shape.rows() elements).
template <class T>
void exp_concrete_log_prob(View<const T> x, View<const T> logits, View<T> out, const Shape &shape,
                           T tau) {
    detail::expect_size(x.size(), shape.size(), "x");
    detail::expect_size(logits.size(), shape.size(), "logits");
    detail::expect_size(out.size(), shape.rows(), "out");
    detail::check(detail::pick<T>(gumbel_exp_concrete_log_prob_f32, gumbel_exp_concrete_log_prob_f64)(
        x.data(), logits.data(), out.data(), shape.outer, shape.classes, shape.inner, tau));
}

/// Relaxed Bernoulli sigmoid((logits + L) / tau), elementwise; 0/1 with `hard`.
template <class T>
void relaxed_bernoulli(View<const T> logits, View<T> out, T tau, bool hard, Position at) {
    detail::expect_size(out.size(), logits.size(), "out");
    detail::check(detail::pick<T>(gumbel_relaxed_bernoulli_f32, gumbel_relaxed_bernoulli_f64)(
        logits.data(), out.data(), logits.size(), tau, hard, at.seed, at.offset));
}
template <class T>
void relaxed_bernoulli(View<const T> logits, View<T> out, T tau, bool hard, Generator &gen) {
    relaxed_bernoulli<T>(logits, out, tau, hard,
                         gen.take(Shape{1, logits.size() ? logits.size() : 1, 1}));
}

/// grad_logits = grad_out * y (1 - y) / tau, elementwise.
template <class T>
void relaxed_bernoulli_backward(View<const T> y, View<const T> grad_out, View<T> grad_logits, T tau) {
    detail::expect_size(grad_out.size(), y.size(), "grad_out");
    detail::expect_size(grad_logits.size(), y.size(), "grad_logits");
    detail::check(detail::pick<T>(gumbel_relaxed_bernoulli_backward_f32,
                                  gumbel_relaxed_bernoulli_backward_f64)(
        y.data(), grad_out.data(), grad_logits.data(), y.size(), tau));
}

/// Binary Concrete log-density of each y in (0, 1).
template <class T>
void relaxed_bernoulli_log_prob(View<const T> y, View<const T> logits, View<T> out, T tau) {
    detail::expect_size(logits.size(), y.size(), "logits");
    detail::expect_size(out.size(), y.size(), "out");
    detail::check(detail::pick<T>(gumbel_relaxed_bernoulli_log_prob_f32,
                                  gumbel_relaxed_bernoulli_log_prob_f64)(
        y.data(), logits.data(), out.data(), y.size(), tau));
}

/// The Gumbel(loc, scale) distribution: elementwise functions (out may be x) and scalars.
namespace dist {
#define GUMBEL_HPP_ELEMENTWISE(NAME)                                                               \
    template <class T> void NAME(View<const T> x, View<T> out, T loc = 0, T scale = 1) {            \
        detail::expect_size(out.size(), x.size(), "out");                                         \
        detail::check(detail::pick<T>(gumbel_dist_##NAME##_f32, gumbel_dist_##NAME##_f64)(          \
            x.data(), out.data(), x.size(), loc, scale));                                           \
    }
GUMBEL_HPP_ELEMENTWISE(log_pdf)
GUMBEL_HPP_ELEMENTWISE(cdf)
GUMBEL_HPP_ELEMENTWISE(log_cdf)
GUMBEL_HPP_ELEMENTWISE(sf)
GUMBEL_HPP_ELEMENTWISE(log_sf)
GUMBEL_HPP_ELEMENTWISE(icdf)
GUMBEL_HPP_ELEMENTWISE(isf)
#undef GUMBEL_HPP_ELEMENTWISE

#define GUMBEL_HPP_SCALAR(NAME)                                                                    \
    template <class T> T NAME(T loc = 0, T scale = 1) {                                             \
        T out = 0;                                                                                 \
        detail::check(detail::pick<T>(gumbel_dist_##NAME##_f32, gumbel_dist_##NAME##_f64)(loc, scale, \
                                                                                         &out));   \
        return out;                                                                                \
    }
GUMBEL_HPP_SCALAR(mean)
GUMBEL_HPP_SCALAR(variance)
GUMBEL_HPP_SCALAR(mode)
GUMBEL_HPP_SCALAR(entropy)
#undef GUMBEL_HPP_SCALAR

/// KL(Gumbel(loc1, scale1) || Gumbel(loc2, scale2)).
template <class T> T kl(T loc1, T scale1, T loc2, T scale2) {
    T out = 0;
    detail::check(detail::pick<T>(gumbel_dist_kl_f32, gumbel_dist_kl_f64)(loc1, scale1, loc2, scale2, &out));
    return out;
}
} // namespace dist

/// Temperature schedules (double precision).
namespace schedule {
/// max(tau_min, tau0 exp(-rate t)), t = every * floor(step / every) (Jang et al. 2017).
inline double exponential(double tau0, double rate, double tau_min, std::uint64_t step,
                          std::uint64_t every = 1) {
    double out = 0;
    detail::check(gumbel_schedule_exponential(tau0, rate, tau_min, step, every, &out));
    return out;
}
/// Linear from tau0 to tau_end over total_steps.
inline double linear(double tau0, double tau_end, std::uint64_t step, std::uint64_t total_steps) {
    double out = 0;
    detail::check(gumbel_schedule_linear(tau0, tau_end, step, total_steps, &out));
    return out;
}
/// Half-cosine from tau0 to tau_end over total_steps.
inline double cosine(double tau0, double tau_end, std::uint64_t step, std::uint64_t total_steps) {
    double out = 0;
    detail::check(gumbel_schedule_cosine(tau0, tau_end, step, total_steps, &out));
    return out;
}
} // namespace schedule

/// The loaded library's version, "MAJOR.MINOR.PATCH".
inline std::string version() { return gumbel_version(); }

/// Worker threads large calls use now.
inline std::size_t num_threads() { return gumbel_num_threads(); }

/// Sizes the library's worker pool (0: the default).
inline void set_num_threads(std::size_t threads) { detail::check(gumbel_set_num_threads(threads)); }

/// RAII: sets the worker-pool size, restores the previous size on destruction.
class ScopedNumThreads {
  public:
    explicit ScopedNumThreads(std::size_t threads) : previous_(gumbel_num_threads()) {
        set_num_threads(threads);
    }
    ~ScopedNumThreads() { gumbel_set_num_threads(previous_); }
    ScopedNumThreads(const ScopedNumThreads &) = delete;
    ScopedNumThreads &operator=(const ScopedNumThreads &) = delete;

  private:
    std::size_t previous_;
};

} // namespace gumbel

#endif // GUMBEL_HPP
