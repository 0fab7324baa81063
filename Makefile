# Front door for C users. `make` builds the library, `make demo` runs the C
# demo on the bundled digits logits, `make test` runs everything CI runs.

CARGO     ?= cargo
CC        ?= cc
CXX       ?= c++
PREFIX    ?= /usr/local
DESTDIR   ?=
VERSION   := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)

LIBDIR    := target/release
BUILD     := build
STAGE     := $(abspath $(BUILD))/stage
WARN      := -Wall -Wextra -Werror
CFLAGS    ?= -O2 -g
CXXFLAGS  ?= -O2 -g
INCLUDES  := -Iinclude -Iexamples/common
LDLIBS    := -L$(LIBDIR) -lgumbel -Wl,-rpath,$(abspath $(LIBDIR)) -lm
SOURCES   := $(wildcard src/*.rs src/*/*.rs) Cargo.toml Cargo.lock

.PHONY: all lib header demo train examples test test-rust test-c test-cpp-wrapper python test-python vae install clean

all: lib

lib: $(LIBDIR)/libgumbel.so $(LIBDIR)/libgumbel.a

$(LIBDIR)/libgumbel.so $(LIBDIR)/libgumbel.a: $(SOURCES)
	$(CARGO) build --release --locked

# Regenerates include/gumbel.h with cbindgen (pinned by Cargo.lock).
header:
	GUMBEL_BLESS=1 $(CARGO) test --release --locked --test header

$(BUILD):
	mkdir -p $(BUILD)

$(BUILD)/demo_c: examples/c/demo.c examples/common/npy.c examples/common/npy.h include/gumbel.h lib | $(BUILD)
	$(CC) -std=c99 $(WARN) $(CFLAGS) $(INCLUDES) examples/c/demo.c examples/common/npy.c -o $@ $(LDLIBS)

$(BUILD)/demo_cpp: examples/cpp/demo.cpp examples/common/npy.c examples/common/npy.h include/gumbel.h lib | $(BUILD)
	$(CC) -std=c99 $(WARN) $(CFLAGS) $(INCLUDES) -c examples/common/npy.c -o $(BUILD)/npy.o
	$(CXX) -std=c++17 $(WARN) $(CXXFLAGS) $(INCLUDES) examples/cpp/demo.cpp $(BUILD)/npy.o -o $@ $(LDLIBS)

$(BUILD)/quickstart: examples/c/quickstart.c include/gumbel.h lib | $(BUILD)
	$(CC) -std=c99 $(WARN) $(CFLAGS) $(INCLUDES) $< -o $@ $(LDLIBS)

$(BUILD)/train: examples/c/train.c include/gumbel.h lib | $(BUILD)
	$(CC) -std=c99 $(WARN) $(CFLAGS) $(INCLUDES) $< -o $@ $(LDLIBS)

$(BUILD)/test_abi: tests/c/abi.c include/gumbel.h lib | $(BUILD)
	$(CC) -std=c99 -pedantic $(WARN) $(CFLAGS) $(INCLUDES) $< -o $@ $(LDLIBS)

$(BUILD)/test_two_units: tests/cpp/unit_a.cpp tests/cpp/unit_b.cpp include/gumbel.h lib | $(BUILD)
	$(CXX) -std=c++17 -pedantic $(WARN) $(CXXFLAGS) $(INCLUDES) tests/cpp/unit_a.cpp tests/cpp/unit_b.cpp -o $@ $(LDLIBS)

examples: $(BUILD)/demo_c $(BUILD)/demo_cpp $(BUILD)/quickstart $(BUILD)/train

demo: $(BUILD)/demo_c
	$(BUILD)/demo_c

# Fits a categorical distribution through hard samples with an annealed temperature.
train: $(BUILD)/train
	$(BUILD)/train

test: test-rust test-c test-cpp-wrapper test-python

test-rust:
	$(CARGO) test --release --locked

# C and C++ programs built with warnings as errors against the shared library,
# then the static library and an installed copy found through pkg-config.
test-c: examples $(BUILD)/test_abi $(BUILD)/test_two_units
	$(BUILD)/test_abi
	$(BUILD)/test_two_units
	$(BUILD)/quickstart
	$(BUILD)/train > $(BUILD)/train.out
	GUMBEL_DEMO_QUICK=1 $(BUILD)/demo_c > $(BUILD)/demo_c.out
	GUMBEL_DEMO_QUICK=1 $(BUILD)/demo_cpp > $(BUILD)/demo_cpp.out
	$(CC) -std=c99 $(WARN) $(CFLAGS) $(INCLUDES) tests/c/abi.c -o $(BUILD)/test_abi_static \
	  $(LIBDIR)/libgumbel.a -lpthread -ldl -lm
	$(BUILD)/test_abi_static
	rm -rf $(STAGE)
	$(MAKE) --no-print-directory install PREFIX=$(STAGE)
	$(CC) -std=c99 $(WARN) examples/c/quickstart.c -o $(BUILD)/quickstart_installed -I$(STAGE)/include \
	  -L$(STAGE)/lib -lgumbel -Wl,-rpath,$(STAGE)/lib
	$(BUILD)/quickstart_installed > /dev/null
	if command -v pkg-config > /dev/null; then \
	  $(CC) -std=c99 $(WARN) examples/c/quickstart.c -o $(BUILD)/quickstart_pkgconfig \
	    $$(PKG_CONFIG_PATH=$(STAGE)/lib/pkgconfig pkg-config --cflags --libs gumbel) -Wl,-rpath,$(STAGE)/lib \
	    && $(BUILD)/quickstart_pkgconfig > /dev/null; fi

# Python: a virtual environment under build/ with the build and test tools
# (PyTorch from PyPI, with its CUDA wheels: the only torch PyPI has for Linux;
# the tests use its CPU side), the wheel built by maturin (cffi over
# include/gumbel.h, the shared library inside the wheel), then pytest.
PYTHON    ?= python3
VENV      := $(BUILD)/venv
VPY       := $(VENV)/bin/python
PYPKG     := bindings/python
PYSOURCES := $(shell find $(PYPKG)/python -name '*.py' -o -name py.typed) $(wildcard $(PYPKG)/*.py) $(PYPKG)/pyproject.toml

$(VENV)/.ready: | $(BUILD)
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --upgrade pip
	$(VPY) -m pip install --quiet "maturin>=1.5,<2" cffi numpy pytest torch
	touch $@

# pip runs bindings/python/build_backend.py: it writes the cffi header from
# include/gumbel.h, then maturin builds the wheel.
$(BUILD)/python.stamp: $(VENV)/.ready include/gumbel.h $(SOURCES) $(PYSOURCES)
	rm -rf $(BUILD)/wheels
	PATH=$(abspath $(VENV))/bin:$$PATH $(VPY) -m pip wheel --quiet --no-build-isolation --no-deps --wheel-dir $(BUILD)/wheels ./$(PYPKG)
	$(VPY) -m pip install --quiet --force-reinstall --no-deps $(BUILD)/wheels/gumbel-*.whl
	touch $@

python: $(BUILD)/python.stamp

$(BUILD)/c_reference: $(PYPKG)/tests/c_reference.c include/gumbel.h lib | $(BUILD)
	$(CC) -std=c99 $(WARN) $(CFLAGS) $(INCLUDES) $< -o $@ $(LDLIBS)

# Run from the tests folder so that `import gumbel` is the installed wheel.
test-python: python $(BUILD)/c_reference
	cd $(PYPKG)/tests && GUMBEL_C_REFERENCE=$(abspath $(BUILD))/c_reference \
	  $(abspath $(VPY)) -m pytest -q -p no:cacheprovider .

# The categorical VAE example (not part of `make test`: it needs scikit-learn).
vae: python
	$(VPY) -m pip install --quiet scikit-learn
	$(VPY) examples/python/categorical_vae.py

# The C++17 wrapper: its example and a test including it from two units.
$(BUILD)/cpp_wrapper_test: tests/cpp/wrapper_a.cpp tests/cpp/wrapper_b.cpp bindings/cpp/gumbel.hpp include/gumbel.h lib | $(BUILD)
	$(CXX) -std=c++17 -pedantic $(WARN) $(CXXFLAGS) $(INCLUDES) -Ibindings/cpp tests/cpp/wrapper_a.cpp tests/cpp/wrapper_b.cpp -o $@ $(LDLIBS)

$(BUILD)/cpp_wrapper_example: examples/cpp/wrapper.cpp bindings/cpp/gumbel.hpp include/gumbel.h lib | $(BUILD)
	$(CXX) -std=c++17 -pedantic $(WARN) $(CXXFLAGS) $(INCLUDES) -Ibindings/cpp $< -o $@ $(LDLIBS)

test-cpp-wrapper: $(BUILD)/cpp_wrapper_test $(BUILD)/cpp_wrapper_example
	$(BUILD)/cpp_wrapper_test
	$(BUILD)/cpp_wrapper_example > $(BUILD)/cpp_wrapper_example.out

install: lib
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include
	install -m 755 $(LIBDIR)/libgumbel.so $(DESTDIR)$(PREFIX)/lib/libgumbel.so
	install -m 644 $(LIBDIR)/libgumbel.a $(DESTDIR)$(PREFIX)/lib/libgumbel.a
	install -m 644 include/gumbel.h $(DESTDIR)$(PREFIX)/include/gumbel.h
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' gumbel.pc.in \
	  > $(DESTDIR)$(PREFIX)/lib/pkgconfig/gumbel.pc

clean:
	rm -rf $(BUILD)
	$(CARGO) clean
