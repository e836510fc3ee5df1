# ganc build. Optional parts are probed and can be switched off:
#   make OPENMP=0 OPENBLAS=0 NATIVE=0 ZLIB=0 STB=0 GIF=0 MPI=0 MHD=0 (MPI: ganc train under mpirun;
#   MHD: libmicrohttpd, the HTTP server of ganc serve and ganc train --serve)
# Targets: all (libraries, build/ganc, its man page), install and uninstall (PREFIX=/usr/local,
# DESTDIR; mk/install.mk), test, sanitize (tests under ASan+UBSan), tsan (the
# race tests under ThreadSanitizer), valgrind, fuzz, demo, bench, bench-stacked, fixtures (regenerate PyTorch references), clean.

CC       ?= cc
BUILD    ?= build
OPENMP   ?= 1
OPENBLAS ?= 1
NATIVE   ?= 1
ZLIB     ?= 1
STB      ?= 1
GIF      ?= 1
MPI      ?= 1
MHD      ?= 1
SAN      ?= 0

CFLAGS_BASE := -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -O3 -g -Iinclude -Isrc
# One set of objects serves the static library, the shared one and the binaries: position
# independent, and exporting only what include/ganc.h marks GANC_API. Calls between the
# library's own functions stay direct (no interposition through the PLT).
CFLAGS_BASE += -fPIC -fvisibility=hidden
LDLIBS      := -lm
# Where `--data mnist-10k` finds the digits shipped in data/ (GANC_DATA_DIR overrides it at run time).
CFLAGS_BASE += -DGANC_BUILD_DATA_DIR='"$(CURDIR)/data"'

# $(call probe,SOURCE,CFLAGS,LIBS): "yes" when mk/SOURCE compiles and links with them.
probe = $(shell $(CC) $(2) mk/$(1) -o /dev/null $(3) >/dev/null 2>&1 && echo yes)

HAVE_OPENMP :=
ifeq ($(OPENMP),1)
  ifeq ($(call probe,probe_empty.c,-fopenmp,),yes)
    HAVE_OPENMP := yes
    CFLAGS_BASE += -fopenmp
    LDLIBS      += -fopenmp
  endif
endif
ifneq ($(HAVE_OPENMP),yes)
  CFLAGS_BASE += -Wno-unknown-pragmas
endif
ifeq ($(OPENBLAS),1)
  ifeq ($(call probe,probe_openblas.c,,-lopenblas),yes)
    CFLAGS_BASE += -DGANC_HAVE_OPENBLAS
    LDLIBS      += -lopenblas
  endif
endif
ifeq ($(ZLIB),1)
  ifeq ($(call probe,probe_zlib.c,,-lz),yes)
    CFLAGS_BASE += -DGANC_HAVE_ZLIB
    LDLIBS      += -lz
  endif
endif
ifeq ($(STB),1)
  ifeq ($(call probe,probe_stb.c,,-lstb),yes)
    CFLAGS_BASE += -DGANC_HAVE_STB
    LDLIBS      += -lstb
  endif
endif
ifeq ($(GIF),1)
  ifeq ($(call probe,probe_gif.c,,-lgif),yes)
    CFLAGS_BASE += -DGANC_HAVE_GIF
    LDLIBS      += -lgif
  endif
endif
# MPI (data-parallel ganc train under mpirun): its flags from pkg-config's mpi-c (Debian's
# OpenMPI and MPICH both ship one). Only the ganc binary links it (MPI_LIBS): the library,
# ganc.pc and the tests' binaries stay as they were.
MPI_LIBS :=
ifeq ($(MPI),1)
  MPI_FLAGS := $(shell pkg-config --cflags --libs mpi-c 2>/dev/null)
  ifneq ($(MPI_FLAGS),)
    ifeq ($(call probe,probe_mpi.c,$(filter -I%,$(MPI_FLAGS)),$(filter-out -I%,$(MPI_FLAGS))),yes)
      CFLAGS_BASE += -DGANC_HAVE_MPI $(filter -I%,$(MPI_FLAGS))
      MPI_LIBS    := $(filter-out -I%,$(MPI_FLAGS))
    endif
  endif
endif
# libmicrohttpd (the dashboard's server, src/web/server.c): like MPI, only the ganc binary links it.
MHD_LIBS :=
ifeq ($(MHD),1)
  ifeq ($(call probe,probe_mhd.c,,-lmicrohttpd),yes)
    CFLAGS_BASE += -DGANC_HAVE_MHD
    MHD_LIBS    := -lmicrohttpd
  endif
endif
ifeq ($(call probe,probe_empty.c,-fno-semantic-interposition -Werror,),yes)
  CFLAGS_BASE += -fno-semantic-interposition
endif
ifeq ($(NATIVE),1)
  ifeq ($(call probe,probe_empty.c,-march=native,),yes)
    CFLAGS_BASE += -march=native
  endif
endif
ifeq ($(SAN),1)
  CFLAGS_BASE += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
  LDLIBS      += -fsanitize=address,undefined
endif

CFLAGS ?=
ALL_CFLAGS := $(CFLAGS_BASE) $(CFLAGS)

LIB_SRC  := $(wildcard src/core/*.c src/kernels/*.c src/layers/*.c src/nn/*.c src/gan/*.c src/data/*.c src/io/*.c src/eval/*.c)
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/presets.o
PRESETS  := $(sort $(wildcard models/*.gan))
LIB      := $(BUILD)/libganc.a
# The shared library: libganc.so.X.Y.Z, its SONAME from the version in include/ganc.h (see
# there: 0.MINOR while the major version is 0, else MAJOR), and the two links to it.
version_part = $(shell sed -n 's/^.define GANC_VERSION_$(1) \([0-9][0-9]*\)$$/\1/p' include/ganc.h)
VERSION  := $(call version_part,MAJOR).$(call version_part,MINOR).$(call version_part,PATCH)
SONAME   := libganc.so.$(if $(filter 0,$(call version_part,MAJOR)),0.$(call version_part,MINOR),$(call version_part,MAJOR))
SHLIB    := $(BUILD)/libganc.so.$(VERSION)
MAN_PAGE := $(BUILD)/ganc.1

# The command, and the dashboard it serves or writes (src/web/; its page is compiled in below).
CLI_SRC  := $(wildcard src/cli/*.c src/web/*.c)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o) $(BUILD)/web_assets.o
WEB_ASSETS := src/web/assets/index.html src/web/assets/app.css src/web/assets/app.js
GANC     := $(BUILD)/ganc
# The data path's throughput (bench/data_path.c), run by `make bench` after the table; built
# with everything else so that it keeps compiling.
BENCH_DATA := $(BUILD)/bench_data_path

TEST_SUPPORT := tests/check.c tests/fixture.c tests/png_read.c tests/nets.c tests/bf16_ref.c
TEST_SRC := $(filter-out $(TEST_SUPPORT),$(wildcard tests/test_*.c))
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
TEST_SUPPORT_OBJ := $(TEST_SUPPORT:%.c=$(BUILD)/%.o)

.PHONY: all test sanitize tsan valgrind fixtures demo bench bench-toy bench-stacked bench-mpi fuzz clean

all: $(LIB) $(SHLIB) $(GANC) $(BENCH_DATA) $(MAN_PAGE)
	@echo "built with:$(filter -fopenmp -DGANC_HAVE_% -march=native,$(CFLAGS_BASE))"

$(BUILD)/%.o: %.c $(wildcard include/*.h src/*.h src/*/*.h tests/*.h)
	@mkdir -p $(dir $@)
	@echo "CC $<"
	@$(CC) $(ALL_CFLAGS) -c $< -o $@

# The model presets are compiled into the library, so `ganc --model dcgan28` works from any
# directory: each models/NAME.gan becomes one C string.
$(BUILD)/presets.c: $(PRESETS) Makefile
	@mkdir -p $(dir $@)
	@{ echo '/* generated from models/ *.gan by the Makefile */'; \
	  echo 'typedef struct { const char *name, *text; } preset;'; \
	  echo 'const preset ganc_presets[] = {'; \
	  for f in $(PRESETS); do \
	    printf '  {"%s",\n' "$$(basename $$f .gan)"; \
	    sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/   "/' -e 's/$$/\\n"/' $$f; \
	    echo '  },'; \
	  done; \
	  echo '};'; \
	  echo 'const int ganc_preset_count = (int)(sizeof ganc_presets / sizeof ganc_presets[0]);'; } > $@

$(BUILD)/presets.o: $(BUILD)/presets.c
	@$(CC) $(ALL_CFLAGS) -c $< -o $@

# The dashboard's page, style and script (src/web/assets/), each one C string ganc_web_NAME_EXT,
# so that ganc serves and writes them without any file beside it. '?' is escaped against trigraphs.
$(BUILD)/web_assets.c: $(WEB_ASSETS) Makefile
	@mkdir -p $(dir $@)
	@{ echo '/* generated from src/web/assets/ by the Makefile */'; \
	  for f in $(WEB_ASSETS); do \
	    printf 'const char ganc_web_%s[] =\n' "$$(basename $$f | tr . _)"; \
	    sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/?/\\?/g' -e 's/^/   "/' -e 's/$$/\\n"/' $$f; \
	    echo '   "";'; \
	  done; } > $@

$(BUILD)/web_assets.o: $(BUILD)/web_assets.c
	@$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@rm -f $@
	@ar rcs $@ $^

# -z defs: every symbol the library uses comes from the libraries it names (what ganc.pc's
# Libs.private lists for static links); not with the sanitizers, whose runtime the program brings.
$(SHLIB): $(LIB_OBJ)
	@echo "LD $@"
	@$(CC) $(ALL_CFLAGS) -shared -Wl,-soname,$(SONAME) $(if $(filter 1,$(SAN)),,-Wl,-z,defs) $^ -o $@ $(LDLIBS)
	@ln -sf $(notdir $@) $(BUILD)/$(SONAME)
	@ln -sf $(SONAME) $(BUILD)/libganc.so

$(GANC): $(CLI_OBJ) $(LIB)
	@echo "LD $@"
	@$(CC) $(ALL_CFLAGS) $^ -o $@ $(LDLIBS) $(MPI_LIBS) $(MHD_LIBS)

$(BENCH_DATA): $(BUILD)/bench/data_path.o $(LIB)
	@echo "LD $@"
	@$(CC) $(ALL_CFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(TEST_SUPPORT_OBJ) $(LIB)
	@echo "LD $@"
	@$(CC) $(ALL_CFLAGS) $^ -o $@ $(LDLIBS)

# Runs every test binary (from the repository root, where the fixtures are), then prints one
# closing line with the totals; fails if any binary failed.
# tests/image_probe.c: reads back the PNGs and GIFs of ganc sample for the shell tests. The
# library's tests also install it (tests/test_install.sh runs make install into a temporary
# prefix with this make's variables, so with this build's).
IMAGE_PROBE := $(BUILD)/tests/image_probe
test: $(TEST_BIN) $(GANC) $(IMAGE_PROBE) $(SHLIB) $(MAN_PAGE)
	+@OMP_NUM_THREADS=$${OMP_NUM_THREADS:-2} GANC=$(GANC) IMAGE_PROBE=$(IMAGE_PROBE) SHLIB=$(SHLIB) MAN_PAGE=$(MAN_PAGE) SAN=$(SAN) \
	  MAKE="$(MAKE)" sh tests/run.sh $(TEST_BIN) tests/test_cli.sh tests/test_eval.sh tests/test_faults.sh \
	  tests/test_data_paths.sh tests/test_data_folder.sh tests/test_diffaug_cli.sh tests/test_cond_cli.sh \
	  tests/test_sample_interp.sh tests/test_symbols.sh tests/test_man.sh tests/test_install.sh \
	  tests/test_torch_generator.sh tests/test_mpi.sh tests/test_serve.sh tests/test_bf16_cli.sh

sanitize:
	$(MAKE) BUILD=build/sanitize SAN=1 test

# The race tests (tests/race_*.c: threads that make the same first calls at once, and separate
# generator handles drawing at once) under
# ThreadSanitizer, built with clang into build/tsan; any report stops the run with a non-zero
# exit. OpenMP is off because libgomp is not built for TSan (the tests start pthreads instead);
# OpenBLAS stays on, since the one-time set-up they race is in its path.
RACE_TESTS := $(wildcard tests/race_*.c)
tsan:
	@$(MAKE) -s BUILD=build/tsan CC=clang OPENMP=0 NATIVE=0 CFLAGS="-fsanitize=thread -O1" \
	  $(RACE_TESTS:tests/%.c=build/tsan/tests/%)
	@for t in $(RACE_TESTS:tests/%.c=build/tsan/tests/%); do \
	  TSAN_OPTIONS="halt_on_error=1 exitcode=66" $$t || { echo "FAILED: $$t"; exit 1; }; \
	done

# A short training run, resume, sample and export, and the inference API's tests
# (tests/test_generator.c), under valgrind's memcheck (tests/test_valgrind.sh), on
# a build valgrind can decode: no AVX-512, portable GEMM.
valgrind:
	@$(MAKE) -s BUILD=build/valgrind NATIVE=0 OPENBLAS=0 build/valgrind/ganc build/valgrind/tests/test_generator
	@GANC=build/valgrind/ganc GENERATOR_TEST=build/valgrind/tests/test_generator sh tests/test_valgrind.sh

fixtures:
	/usr/bin/python3 tools/make_fixtures.py

# libFuzzer harnesses, one per reader (tests/fuzz/), built with clang into build/fuzz and run
# for FUZZ_SECONDS each from the seed corpus in tests/fuzz/corpus/NAME/.
FUZZ_SECONDS ?= 30
FUZZERS := idx npy safetensors model flags image_header image_cache cifar npy_set generator
fuzz:
	@$(MAKE) -s BUILD=build/fuzz CC=clang OPENMP=0 NATIVE=0 \
	  CFLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all" build/fuzz/libganc.a
	@for f in $(FUZZERS); do \
	  clang $(filter-out -fopenmp -march=native,$(CFLAGS_BASE)) -fsanitize=fuzzer,address,undefined \
	    tests/fuzz/fuzz_$$f.c build/fuzz/libganc.a -o build/fuzz/fuzz_$$f $(filter-out -fopenmp,$(LDLIBS)) || exit 1; \
	  sh tests/fuzz/run.sh $$f $(FUZZ_SECONDS) || exit 1; \
	done

# Installs what is missing, builds, trains dcgan28 on Fashion-MNIST for a few minutes.
demo:
	@sh tools/demo.sh

# Training speed of ganc against PyTorch on the same networks (bench/README.md); not part of
# test. ITERS=N sets the timed iterations per row.
# The 2-D mode-collapse benchmark: toy2d on ring and grid, plain and stabilised, 5 seeds each
# (bench/toy.sh; SEEDS, STEPS, JOBS, STAB override).
bench-toy: $(GANC)
	@GANC=$(GANC) sh bench/toy.sh

bench: $(GANC) $(BENCH_DATA)
	@GANC=$(GANC) BENCH_DATA=$(BENCH_DATA) sh bench/run.sh

# Stacked MNIST mode coverage (bench/stacked.sh): dcgan28 plain and stabilised, 3 seeds, each
# scored by ganc eval (modes of 1000, KL from uniform); not part of test. STEPS, SEEDS,
# THREADS, STABLE_FLAGS override its defaults.
bench-stacked: $(GANC)
	@GANC=$(GANC) sh bench/stacked.sh

# ganc train over 2 MPI processes of one thread against one process of two threads, per
# preset (bench/mpi.sh): steps/s, images/s, exchange time and bytes per step; not part of test.
# MODELS, BATCH, STEPS, SYNC_BN override its defaults.
bench-mpi: $(GANC)
	@GANC=$(GANC) sh bench/mpi.sh

clean:
	rm -rf build

include mk/install.mk
