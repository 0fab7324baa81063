# Front door for C users. `make` builds the library, `make demo` runs the C
# demo on the bundled digits logits, `make test` runs everything CI runs.

CARGO     ?= cargo
CC        ?= cc
CXX       ?= c++
PREFIX    ?= /usr/local
DESTDIR   ?=
# `make install` strips the debug information (line tables) from the installed
# libraries; symbols stay, so backtraces still name functions. From the static
# library it also drops the LLVM bitcode that Rust's standard library objects
# carry for link-time optimisation by rustc, which no C linker reads (as
# distributions drop GCC's LTO sections). `STRIP=` installs the files as built.
STRIP     ?= strip
VERSION   := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
VERSION_PARTS := $(subst ., ,$(VERSION))
SONAME    := libgumbel.so.$(word 1,$(VERSION_PARTS))

LIBDIR    := target/release
SHARED    := $(LIBDIR)/libgumbel.so
STATIC    := $(LIBDIR)/libgumbel.a
SONAME_LINK := $(LIBDIR)/$(SONAME)
BUILD     := build
WARN      := -Wall -Wextra -Werror
CFLAGS    ?= -O2 -g
CXXFLAGS  ?= -O2 -g
INCLUDES  := -Iinclude -Iexamples/common
LDLIBS    := -L$(LIBDIR) -lgumbel -Wl,-rpath,$(abspath $(LIBDIR)) -lm
SOURCES   := $(shell find src -name '*.rs') build.rs Cargo.toml Cargo.lock

.PHONY: all lib header doc demo train examples vae estimators jax-vae text compare bench install clean \
	test test-rust test-c test-cpp-wrapper test-install test-python python \
	fuzz sanitize sanitize-c miri valgrind

all: lib

lib: $(SHARED) $(STATIC) $(SONAME_LINK)

# Programs depend on the library files themselves (not on the phony `lib`),
# so they are relinked only when the library changed. One cargo run writes
# both files; the touch marks them current also when cargo found nothing to
# rebuild (an edit that did not change the code).
$(SHARED): $(SOURCES)
	$(CARGO) build --release --locked
	@touch $@

$(STATIC): $(SHARED)
	@test -f $@ || $(CARGO) build --release --locked

# Programs linked against the library record its SONAME (libgumbel.so.0, see
# build.rs) and load it by that name: the build tree has the link too.
$(SONAME_LINK): $(SHARED)
	ln -sfn libgumbel.so $@

# Regenerates include/gumbel.h with cbindgen (pinned by Cargo.lock).
header:
	GUMBEL_BLESS=1 $(CARGO) test --release --locked --test integration header::

# The API documentation (with the XLA handlers of the `xla` feature); a
# warning (a broken or private link) fails it.
doc:
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --no-deps --locked --features xla

$(BUILD):
	mkdir -p $(BUILD)

$(BUILD)/demo_c: examples/c/demo.c examples/common/npy.c examples/common/npy.h include/gumbel.h $(SONAME_LINK) | $(BUILD)
	$(CC) -std=c99 $(WARN) $(CFLAGS) $(INCLUDES) examples/c/demo.c examples/common/npy.c -o $@ $(LDLIBS)

$(BUILD)/demo_cpp: examples/cpp/demo.cpp examples/common/npy.c examples/common/npy.h include/gumbel.h $(SONAME_LINK) | $(BUILD)
	$(CC) -std=c99 $(WARN) $(CFLAGS) $(INCLUDES) -c examples/common/npy.c -o $(BUILD)/npy.o
	$(CXX) -std=c++17 $(WARN) $(CXXFLAGS) $(INCLUDES) examples/cpp/demo.cpp $(BUILD)/npy.o -o $@ $(LDLIBS)

$(BUILD)/quickstart: examples/c/quickstart.c include/gumbel.h $(SONAME_LINK) | $(BUILD)
	$(CC) -std=c99 $(WARN) $(CFLAGS) $(INCLUDES) $< -o $@ $(LDLIBS)

$(BUILD)/train: examples/c/train.c include/gumbel.h $(SONAME_LINK) | $(BUILD)
	$(CC) -std=c99 $(WARN) $(CFLAGS) $(INCLUDES) $< -o $@ $(LDLIBS)

$(BUILD)/test_abi: tests/c/abi.c include/gumbel.h $(SONAME_LINK) | $(BUILD)
	$(CC) -std=c99 -pedantic $(WARN) $(CFLAGS) $(INCLUDES) $< -o $@ $(LDLIBS)

$(BUILD)/test_concurrency: tests/c/concurrency.c include/gumbel.h $(SONAME_LINK) | $(BUILD)
	$(CC) -std=c99 -pedantic $(WARN) $(CFLAGS) $(INCLUDES) $< -o $@ $(LDLIBS) -lpthread

$(BUILD)/test_two_units: tests/cpp/unit_a.cpp tests/cpp/unit_b.cpp include/gumbel.h $(SONAME_LINK) | $(BUILD)
	$(CXX) -std=c++17 -pedantic $(WARN) $(CXXFLAGS) $(INCLUDES) tests/cpp/unit_a.cpp tests/cpp/unit_b.cpp -o $@ $(LDLIBS)

examples: $(BUILD)/demo_c $(BUILD)/demo_cpp $(BUILD)/quickstart $(BUILD)/train

demo: $(BUILD)/demo_c
	$(BUILD)/demo_c

# Fits a categorical distribution through hard samples with an annealed temperature.
train: $(BUILD)/train
	$(BUILD)/train

test: test-rust doc test-c test-cpp-wrapper test-install test-python

# The XLA handlers' unit tests need the `xla` feature (the wheel's build).
test-rust:
	$(CARGO) test --release --locked
	$(CARGO) test --release --locked --features xla --lib xla::

$(BUILD)/test_abi_static: tests/c/abi.c include/gumbel.h $(STATIC) | $(BUILD)
	$(CC) -std=c99 $(WARN) $(CFLAGS) $(INCLUDES) $< -o $@ $(STATIC) -lpthread -ldl -lm

# C and C++ programs built with warnings as errors against the shared
# library, then against the static one.
test-c: examples $(BUILD)/test_abi $(BUILD)/test_two_units $(BUILD)/test_concurrency $(BUILD)/test_abi_static
	CC="$(CC)" CXX="$(CXX)" python3 tests/abi_check.py $(LIBDIR) $(BUILD)
	$(BUILD)/test_abi
	$(BUILD)/test_concurrency
	$(BUILD)/test_two_units
	$(BUILD)/quickstart
	$(BUILD)/train > $(BUILD)/train.out
	GUMBEL_DEMO_QUICK=1 $(BUILD)/demo_c > $(BUILD)/demo_c.out
	GUMBEL_DEMO_QUICK=1 $(BUILD)/demo_cpp > $(BUILD)/demo_cpp.out
	$(BUILD)/test_abi_static

# `make install` into a staging directory, then the installed tree moved and
# used by C programs, pkg-config and a CMake project (tests/install.sh).
# CMake comes from PATH, else from PyPI into the venv; without either the
# CMake part is skipped with a message.
test-install: lib | $(BUILD)
	$(MAKE) --no-print-directory $(VENV)/.cmake || true
	MAKE="$(MAKE)" CC="$(CC)" CXX="$(CXX)" sh tests/install.sh $(BUILD) \
	  "$$(command -v cmake || { test -x $(VENV)/bin/cmake && echo $(abspath $(VENV))/bin/cmake; })"

# Python: a virtual environment under build/ with the build and test tools
# (PyTorch from PyPI, with its CUDA wheels: the only torch PyPI has for Linux;
# the tests use its CPU side; JAX with its CPU jaxlib), the wheel built by maturin (cffi over
# include/gumbel.h, the shared library inside the wheel), then pytest.
PYTHON    ?= python3
VENV      := $(BUILD)/venv
VPY       := $(VENV)/bin/python
PYPKG     := bindings/python
PYSOURCES := $(shell find $(PYPKG)/python -name '*.py' -o -name py.typed) $(wildcard $(PYPKG)/*.py) $(PYPKG)/pyproject.toml

$(VENV)/.ready: | $(BUILD)
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --upgrade pip
	$(VPY) -m pip install --quiet "maturin>=1.5,<2" cffi numpy pytest torch jax
	touch $@

# The Python examples' own packages: matplotlib (plots), scikit-learn
# (the digits data set) and optax (the JAX example's Adam). The smoke runs
# of the estimators and JAX examples are tests.
$(VENV)/.examples: $(VENV)/.ready
	$(VPY) -m pip install --quiet matplotlib scikit-learn optax
	touch $@

# CMake for the install test, from PyPI (skipped when cmake is on PATH).
$(VENV)/.cmake: $(VENV)/.ready
	command -v cmake > /dev/null || $(VPY) -m pip install --quiet "cmake>=3.16"
	touch $@

# pip runs bindings/python/build_backend.py: it writes the cffi header from
# include/gumbel.h, then maturin builds the wheel. maturin compiles the crate
# as a lone cdylib with its own flags, a build that cargo's own (all three
# library kinds) cannot share: it gets a target directory of its own, so the
# two never rebuild over each other and the C programs never link maturin's
# stripped copy.
WHEEL_TARGET := $(abspath $(BUILD))/wheel-target
$(BUILD)/python.stamp: $(VENV)/.ready include/gumbel.h $(SOURCES) $(PYSOURCES)
	rm -rf $(BUILD)/wheels
	PATH=$(abspath $(VENV))/bin:$$PATH CARGO_TARGET_DIR=$(WHEEL_TARGET) \
	  $(VPY) -m pip wheel --quiet --no-build-isolation --no-deps --wheel-dir $(BUILD)/wheels ./$(PYPKG)
	$(VPY) -m pip install --quiet --force-reinstall --no-deps $(BUILD)/wheels/gumbel-*.whl
	touch $@

python: $(BUILD)/python.stamp

$(BUILD)/c_reference: $(PYPKG)/tests/c_reference.c include/gumbel.h $(SONAME_LINK) | $(BUILD)
	$(CC) -std=c99 $(WARN) $(CFLAGS) $(INCLUDES) $< -o $@ $(LDLIBS)

# Run from the tests folder so that `import gumbel` is the installed wheel.
test-python: python $(BUILD)/c_reference $(VENV)/.examples
	cd $(PYPKG)/tests && GUMBEL_C_REFERENCE=$(abspath $(BUILD))/c_reference \
	  $(abspath $(VPY)) -m pytest -q -p no:cacheprovider .

# The criterion benchmarks (benches/sampling.rs, a package of their own; a
# few minutes, not part of `make test`). Options: BENCH_ARGS="<filter>".
bench:
	$(CARGO) bench --locked -p gumbel-bench -- $(BENCH_ARGS)

# gumbel against PyTorch and NumPy on the same shapes (not part of `make
# test`, a few minutes; `build/venv/bin/python benches/compare.py --quick`
# checks the script in seconds). Options: COMPARE_ARGS="--threads 1 --repeat 11".
compare: python
	$(VPY) benches/compare.py $(COMPARE_ARGS)

# The categorical VAE example (not part of `make test`, a few minutes).
# Options: VAE_ARGS="--epochs 5 --batch 50".
vae: python $(VENV)/.examples
	$(VPY) examples/python/categorical_vae.py $(VAE_ARGS)

# The gradient estimators compared (a few minutes; `make test` runs its
# `--quick` form). Writes build/estimators.md and build/estimators.png.
# Options: ESTIMATORS_ARGS="--seeds 5 --epochs 20".
estimators: python $(VENV)/.examples
	$(VPY) examples/python/estimators.py $(ESTIMATORS_ARGS)

# The categorical VAE in JAX under jit, gumbel.jax against the pure-JAX
# Gumbel-Softmax (a minute; `make test` runs its `--quick` form).
# Options: JAX_VAE_ARGS="--epochs 50".
jax-vae: python $(VENV)/.examples
	$(VPY) examples/python/jax_vae.py $(JAX_VAE_ARGS)

# Text generation with the sampling head: a character model trained on the
# standard library's docstrings, decoded with per-request filters and keys
# (a few minutes; `make test` runs its `--quick` form). Options:
# TEXT_ARGS="--steps 3000 --chars 300".
text: python
	$(VPY) examples/python/generate_text.py $(TEXT_ARGS)

# The C++17 wrapper: its example and a test including it from two units.
$(BUILD)/cpp_wrapper_test: tests/cpp/wrapper_a.cpp tests/cpp/wrapper_b.cpp bindings/cpp/gumbel.hpp include/gumbel.h $(SONAME_LINK) | $(BUILD)
	$(CXX) -std=c++17 -pedantic $(WARN) $(CXXFLAGS) $(INCLUDES) -Ibindings/cpp tests/cpp/wrapper_a.cpp tests/cpp/wrapper_b.cpp -o $@ $(LDLIBS)

$(BUILD)/cpp_wrapper_example: examples/cpp/wrapper.cpp bindings/cpp/gumbel.hpp include/gumbel.h $(SONAME_LINK) | $(BUILD)
	$(CXX) -std=c++17 -pedantic $(WARN) $(CXXFLAGS) $(INCLUDES) -Ibindings/cpp $< -o $@ $(LDLIBS)

test-cpp-wrapper: $(BUILD)/cpp_wrapper_test $(BUILD)/cpp_wrapper_example
	$(BUILD)/cpp_wrapper_test
	$(BUILD)/cpp_wrapper_example > $(BUILD)/cpp_wrapper_example.out

# Fuzzes each C ABI entry point for FUZZ_SECONDS (not in CI). Needs a
# nightly toolchain; installs cargo-fuzz if it is missing. A crash stops the
# run and leaves its input in fuzz/artifacts/<target>/: add it to
# tests/fuzz_regressions.rs.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := categorical elementwise densities
fuzz:
	command -v cargo-fuzz > /dev/null || $(CARGO) install cargo-fuzz --locked
	cd fuzz && for t in $(FUZZ_TARGETS); do \
	  mkdir -p corpus/$$t && \
	  $(CARGO) +nightly fuzz run -O $$t corpus/$$t -- -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 \
	    || exit 1; done

# AddressSanitizer + UBSan over the C and C++ tests and examples (linked
# against the release library), then Miri over the FFI layer's unit tests
# and valgrind over the C examples. Each step is also a target of its own.
# Miri uses Tree Borrows (crossbeam-epoch, under rayon, is not Stacked
# Borrows clean) and deterministic floats (tests compare the library's
# kernels with std's libm, which Miri otherwise perturbs by a few ulps).
SAN       := $(BUILD)/sanitize
SANFLAGS  := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
SANENV    := ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

sanitize: sanitize-c miri valgrind

sanitize-c: $(SONAME_LINK)
	mkdir -p $(SAN)
	$(CC) -std=c99 $(WARN) $(SANFLAGS) $(INCLUDES) tests/c/abi.c -o $(SAN)/test_abi $(LDLIBS)
	$(CC) -std=c99 $(WARN) $(SANFLAGS) $(INCLUDES) tests/c/concurrency.c -o $(SAN)/test_concurrency $(LDLIBS) -lpthread
	$(CXX) -std=c++17 $(WARN) $(SANFLAGS) $(INCLUDES) tests/cpp/unit_a.cpp tests/cpp/unit_b.cpp -o $(SAN)/test_two_units $(LDLIBS)
	$(CC) -std=c99 $(WARN) $(SANFLAGS) $(INCLUDES) examples/c/quickstart.c -o $(SAN)/quickstart $(LDLIBS)
	$(CC) -std=c99 $(WARN) $(SANFLAGS) $(INCLUDES) examples/c/train.c -o $(SAN)/train $(LDLIBS)
	$(CC) -std=c99 $(WARN) $(SANFLAGS) $(INCLUDES) examples/c/demo.c examples/common/npy.c -o $(SAN)/demo_c $(LDLIBS)
	$(CC) -std=c99 $(WARN) $(SANFLAGS) $(INCLUDES) -c examples/common/npy.c -o $(SAN)/npy.o
	$(CXX) -std=c++17 $(WARN) $(SANFLAGS) $(INCLUDES) examples/cpp/demo.cpp $(SAN)/npy.o -o $(SAN)/demo_cpp $(LDLIBS)
	$(SANENV) $(SAN)/test_abi
	$(SANENV) $(SAN)/test_concurrency
	$(SANENV) $(SAN)/test_two_units
	$(SANENV) $(SAN)/quickstart > /dev/null
	$(SANENV) $(SAN)/train > /dev/null
	$(SANENV) GUMBEL_DEMO_QUICK=1 $(SAN)/demo_c > /dev/null
	$(SANENV) GUMBEL_DEMO_QUICK=1 $(SAN)/demo_cpp > /dev/null
	@echo "sanitize-c: 7 programs clean under ASan+UBSan"

# Miri over the library's unit tests (src/, including src/ffi) and the
# bad-input matrix (every C ABI function, called from Rust): needs
# `rustup component add --toolchain nightly miri`. Tests too slow for the
# interpreter are marked #[cfg_attr(miri, ignore)]. The library's worker
# threads live until the process exits, which Miri reports as a leak unless
# told to ignore leaks.
MIRIFLAGS := -Zmiri-disable-isolation -Zmiri-ignore-leaks -Zmiri-tree-borrows -Zmiri-permissive-provenance -Zmiri-deterministic-floats
miri:
	MIRIFLAGS="$(MIRIFLAGS)" $(CARGO) +nightly miri test --lib
	MIRIFLAGS="$(MIRIFLAGS)" $(CARGO) +nightly miri test --test integration bad_input_matrix::

# valgrind (memcheck) over the C examples and tests built normally. A child
# after fork() is not checked: it inherits memory of its parent's worker
# threads that it can neither reach nor free (see valgrind.supp), and since
# memcheck still counts the child's leaks into its exit status, the forking
# test_abi is checked for memory errors only; the others for leaks too.
VALGRIND  := valgrind --child-silent-after-fork=yes --error-exitcode=1 --leak-check=full --show-leak-kinds=definite,indirect,possible \
	--errors-for-leak-kinds=definite,indirect,possible --suppressions=examples/common/valgrind.supp
valgrind: examples $(BUILD)/test_abi $(BUILD)/test_concurrency
	$(VALGRIND) $(BUILD)/quickstart > /dev/null
	$(VALGRIND) $(BUILD)/train > /dev/null
	GUMBEL_DEMO_QUICK=1 $(VALGRIND) $(BUILD)/demo_c > /dev/null
	$(VALGRIND) --errors-for-leak-kinds=none $(BUILD)/test_abi > /dev/null
	$(VALGRIND) $(BUILD)/test_concurrency > /dev/null
	@echo "valgrind: no errors, no leaks"

# The layout of a C library: the versioned shared library, its SONAME link
# (what programs record and load) and the development link (what -lgumbel
# finds); the static library; gumbel.h and the C++ wrapper gumbel.hpp;
# pkg-config and CMake package files; the licences.
DEST      := $(DESTDIR)$(PREFIX)
install: $(SHARED) $(STATIC)
	install -d $(DEST)/lib/pkgconfig $(DEST)/lib/cmake/gumbel $(DEST)/include $(DEST)/share/doc/gumbel
	install -m 755 $(SHARED) $(DEST)/lib/libgumbel.so.$(VERSION)
	ln -sfn libgumbel.so.$(VERSION) $(DEST)/lib/$(SONAME)
	ln -sfn $(SONAME) $(DEST)/lib/libgumbel.so
	install -m 644 $(STATIC) $(DEST)/lib/libgumbel.a
	$(if $(STRIP),$(STRIP) --strip-debug $(DEST)/lib/libgumbel.so.$(VERSION))
	$(if $(STRIP),$(STRIP) --strip-debug --remove-section=.llvmbc --remove-section=.llvmcmd $(DEST)/lib/libgumbel.a)
	install -m 644 include/gumbel.h bindings/cpp/gumbel.hpp $(DEST)/include
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' gumbel.pc.in > $(DEST)/lib/pkgconfig/gumbel.pc
	sed -e 's|@VERSION@|$(VERSION)|g' -e 's|@SONAME@|$(SONAME)|g' cmake/gumbelConfig.cmake.in \
	  > $(DEST)/lib/cmake/gumbel/gumbelConfig.cmake
	sed -e 's|@VERSION@|$(VERSION)|g' -e 's|@VERSION_MAJOR@|$(word 1,$(VERSION_PARTS))|g' \
	  -e 's|@VERSION_MINOR@|$(word 2,$(VERSION_PARTS))|g' cmake/gumbelConfigVersion.cmake.in \
	  > $(DEST)/lib/cmake/gumbel/gumbelConfigVersion.cmake
	install -m 644 LICENSE-MIT LICENSE-APACHE $(DEST)/share/doc/gumbel

clean:
	rm -rf $(BUILD)
	$(CARGO) clean
