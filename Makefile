# sentence-wasm — everything CI runs goes through this file.
#
#   make setup        install the toolchain (Debian emscripten, npm ci); needs root
#   make wasm         build dist/sentence-wasm.wasm (the engine, WASM SIMD128) and
#                     dist/sentence-wasm-relaxed.wasm (the same with relaxed SIMD)
#   make test         every test: native C under sanitizers, C kernels in WASM, node:test
#   make test-native  C unit tests, built with the host cc under ASan + UBSan
#   make test-browser the browser tests (headless Chromium), also part of make test
#   make test-js-relaxed  the golden-fixture suites on the relaxed-SIMD build
#   make clean

SIMD_SRC := src/linear_simd.c src/attention_simd.c src/elementwise_simd.c
SRC      := src/kernels.c $(SIMD_SRC) src/linear_paired.c src/kernels_int8.c src/tensors.c src/encoder.c src/heads.c src/static_embedding.c src/common.c src/threads.c
HDR      := $(wildcard src/*.h)
BUILD    := build
DIST     := dist

# Debian's emcc needs Debian's acorn for its JS optimizer.
EMCC     := NODE_PATH=/usr/share/nodejs emcc
CC       ?= cc

# Native test build: the same C, with sanitizers, so the engine's checks of
# lengths, shapes and offsets are exercised where ASan can see a mistake.
SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
NATIVE_CFLAGS := -std=c99 -O1 -g -Wall -Wextra -Wshadow -Werror -Isrc $(SANITIZE)

# WASM build flags, each for a reason:
#  -O3 -msimd128           optimised, SIMD128 kernels compiled in (the *_simd.c files)
#  --no-entry -sSTANDALONE_WASM
#                          a library with no main() and no Emscripten JS glue: js/wasm.js
#                          instantiates it itself (Emscripten 3.1.6's glue mistakes Node 20
#                          for a browser), and the same .wasm runs in Node and browsers
#  -sALLOW_MEMORY_GROWTH   model sizes are not known at build time
#  -sINITIAL_MEMORY=16MB   small start; grows as weights arrive
#  -sEXPORTED_FUNCTIONS    exactly the C API in src/sentence_wasm.h
#  no -ffast-math:         it would break agreement with the reference outputs
WASM_EXPORTS := _sw_last_error,_sw_config_default,_sw_model_create,_sw_model_add_tensor,\
_sw_model_tensor_known,_sw_model_finalize,_sw_model_weight_bytes,_sw_model_free,_sw_ctx_create,\
_sw_ctx_forward,_sw_ctx_hidden,_sw_ctx_n_tokens,_sw_ctx_classify,_sw_ctx_splade,_sw_ctx_free,\
_sw_pool,_sw_dense_create,_sw_dense_add_tensor,_sw_dense_forward,_sw_dense_free,_sw_l2_normalize,\
_sw_static_create,_sw_static_add_tensor,_sw_static_forward,_sw_static_free,\
_sw_malloc,_sw_free,_sw_thread_main,_sw_thread_failed,_sw_threads_start,_sw_threads_stop,_sw_threads_count
# SIMD=0 builds the scalar reference kernels only (for bisecting a SIMD bug).
SIMD     ?= 1
SIMD_FLAGS := $(if $(filter 1,$(SIMD)),-msimd128,)
WASM_CFLAGS  := -O3 $(SIMD_FLAGS) -std=c99 -Wall -Isrc
WASM_LDFLAGS := --no-entry -sSTANDALONE_WASM \
  -sALLOW_MEMORY_GROWTH=1 -sINITIAL_MEMORY=16MB -sMAXIMUM_MEMORY=4GB -sTOTAL_STACK=1MB \
  -sEXPORTED_FUNCTIONS=$(subst $(eval) ,,$(WASM_EXPORTS))
WASM_FLAGS   := $(WASM_CFLAGS) $(WASM_LDFLAGS)

# The relaxed-SIMD build (dist/sentence-wasm-relaxed.wasm): the same C and
# flags plus
#  -mrelaxed-simd -DSW_RELAXED_SIMD
#                          every multiply-accumulate of the *_simd.c files is one
#                          f32x4.relaxed_madd (fused on CPUs with FMA)
# then tools/relax_simd.mjs, because clang 14 emits only the pre-standard
# opcode of that instruction, which engines reject; the tool rewrites it to
# the standard one and checks that the result validates (src/relaxed_simd.h
# says why that is sound). js/wasm.js loads this file where the engine
# accepts relaxed SIMD (Chromium 114+; Node 20 with
# --experimental-wasm-relaxed-simd), else the plain one.
#
# The objects are compiled at -O3 as the plain build, but LINKED AT -O1, so
# that binaryen's optimizer (wasm-opt, which emcc runs on the linked module
# from -O2 on) never sees it: binaryen 108 reads the prototype opcode with its
# prototype meaning a + b*c and constant-folds calls whose operands are all
# constants that way (checked: fma(2, 3, 5) folded to 17), which after the
# rewrite to relaxed_madd (a*b + c = 11) would be wrong. LLVM leaves the
# intrinsic alone. The kernel tests and the GEMM bench link the same objects
# the same way; test_kernels.c checks a constant-operand madd.
RELAXED_FLAGS := -mrelaxed-simd -DSW_RELAXED_SIMD
RELAXED_OBJ   := $(patsubst src/%.c,$(BUILD)/relaxed/%.o,$(SRC))
RELAXED_LINK  := -O1 -msimd128 -mrelaxed-simd
RELAX_SIMD    := node tools/relax_simd.mjs
# Each .wasm must stay below this size (bytes).
WASM_MAX_BYTES := 409600

.PHONY: all wasm setup test test-native test-wasm-kernels test-wasm-kernels-relaxed test-js test-js-relaxed \
  test-browser clean

# A recipe that fails leaves no half-made target behind (e.g. a relaxed build
# whose rewrite failed).
.DELETE_ON_ERROR:

all: wasm

# SIMD=0 (no SIMD at all) has no relaxed builds: stale ones are removed so
# the loader cannot pick them.
ifeq ($(SIMD),1)
wasm: $(DIST)/sentence-wasm.wasm $(DIST)/sentence-wasm-relaxed.wasm $(DIST)/sentence-wasm-mt.wasm \
  $(DIST)/sentence-wasm-relaxed-mt.wasm
else
wasm: $(DIST)/sentence-wasm.wasm $(DIST)/sentence-wasm-mt.wasm
	rm -f $(DIST)/sentence-wasm-relaxed.wasm $(DIST)/sentence-wasm-relaxed-mt.wasm
endif

$(DIST)/sentence-wasm.wasm: $(SRC) $(HDR)
	@mkdir -p $(DIST)
	$(EMCC) $(WASM_FLAGS) $(SRC) -o $@
	@test $$(wc -c < $@) -le $(WASM_MAX_BYTES) || { echo "$@ is larger than $(WASM_MAX_BYTES) bytes"; rm -f $@; exit 1; }

$(BUILD)/relaxed/%.o: src/%.c $(HDR)
	@mkdir -p $(BUILD)/relaxed
	$(EMCC) $(WASM_CFLAGS) $(RELAXED_FLAGS) -c $< -o $@

$(DIST)/sentence-wasm-relaxed.wasm: $(RELAXED_OBJ) tools/relax_simd.mjs
	@mkdir -p $(BUILD) $(DIST)
	$(EMCC) $(RELAXED_LINK) $(WASM_LDFLAGS) $(RELAXED_OBJ) -o $(BUILD)/sentence-wasm-relaxed.prestd.wasm
	$(RELAX_SIMD) $(BUILD)/sentence-wasm-relaxed.prestd.wasm $@
	@test $$(wc -c < $@) -le $(WASM_MAX_BYTES) || { echo "$@ is larger than $(WASM_MAX_BYTES) bytes"; rm -f $@; exit 1; }

# The shared-memory builds (threads.c), plain and relaxed: the same C with
# WebAssembly atomics, linked to import one shared memory, which thread 0 and
# its helper workers instantiate the module on (js/wasm.js, thread_helpers.js).
#  -matomics -mbulk-memory   atomic wait/notify; wasm-ld makes the data
#                            segments passive and initialises them once
#  --shared-memory --import-memory
#                            the memory comes from JS, shared by every instance
#  --no-check-features       Emscripten 3.1.6 ships its libc for this set-up only
#                            with its pthread runtime (which needs its JS glue);
#                            the single-threaded libc is linked instead, which is
#                            sound because only thread 0 calls into it (malloc
#                            and the like). Helpers run kernels that allocate
#                            nothing (threads.h).
MT_CFLAGS  := -matomics -mbulk-memory
MT_LDFLAGS := -Wl,--shared-memory,--import-memory,--no-check-features
MT_FLAGS   := $(MT_CFLAGS) $(MT_LDFLAGS)
RELAXED_MT_OBJ := $(patsubst src/%.c,$(BUILD)/relaxed-mt/%.o,$(SRC))

$(DIST)/sentence-wasm-mt.wasm: $(SRC) $(HDR)
	@mkdir -p $(DIST)
	$(EMCC) $(WASM_FLAGS) $(MT_FLAGS) $(SRC) -o $@
	@test $$(wc -c < $@) -le $(WASM_MAX_BYTES) || { echo "$@ is larger than $(WASM_MAX_BYTES) bytes"; rm -f $@; exit 1; }

$(BUILD)/relaxed-mt/%.o: src/%.c $(HDR)
	@mkdir -p $(BUILD)/relaxed-mt
	$(EMCC) $(WASM_CFLAGS) $(RELAXED_FLAGS) $(MT_CFLAGS) -c $< -o $@

$(DIST)/sentence-wasm-relaxed-mt.wasm: $(RELAXED_MT_OBJ) tools/relax_simd.mjs
	@mkdir -p $(BUILD) $(DIST)
	$(EMCC) $(RELAXED_LINK) $(MT_FLAGS) $(WASM_LDFLAGS) $(RELAXED_MT_OBJ) -o $(BUILD)/sentence-wasm-relaxed-mt.prestd.wasm
	$(RELAX_SIMD) $(BUILD)/sentence-wasm-relaxed-mt.prestd.wasm $@
	@test $$(wc -c < $@) -le $(WASM_MAX_BYTES) || { echo "$@ is larger than $(WASM_MAX_BYTES) bytes"; rm -f $@; exit 1; }

# Installs what the build and tests need on a fresh Debian machine
# (chromium: the headless browser of tests/browser/, driven by playwright-core).
setup:
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q emscripten clang chromium libclang-rt-14-dev
	npm ci

# ---- tests ----

# The public header is valid C99 on its own (whisper.cpp's test-c.c).
$(BUILD)/test_header: tests/c/test_header.c src/sentence_wasm.h
	@mkdir -p $(BUILD)
	$(CC) -std=c99 -pedantic -Werror -Wall -Isrc $< -o $@

$(BUILD)/test_engine: tests/c/test_engine.c $(SRC) $(HDR)
	@mkdir -p $(BUILD)
	$(CC) $(NATIVE_CFLAGS) tests/c/test_engine.c $(SRC) -lm -o $@

$(BUILD)/test_kernels: tests/c/test_kernels.c $(SRC) $(HDR)
	@mkdir -p $(BUILD)
	$(CC) $(NATIVE_CFLAGS) tests/c/test_kernels.c $(SRC) -lm -o $@

test-native: $(BUILD)/test_header $(BUILD)/test_engine $(BUILD)/test_kernels
	$(BUILD)/test_header
	$(BUILD)/test_kernels
	$(BUILD)/test_engine

# The SIMD128 kernels against the references, compiled to WASM and run by Node
# (.cjs: the package is "type": "module" and Emscripten's node output is CommonJS).
$(BUILD)/test_kernels_wasm.cjs: tests/c/test_kernels.c $(SRC) $(HDR)
	@mkdir -p $(BUILD)
	$(EMCC) -O2 -msimd128 -std=c99 -Wall -Isrc -sSINGLE_FILE=1 -sALLOW_MEMORY_GROWTH=1 \
	  -sENVIRONMENT=node tests/c/test_kernels.c $(SRC) -o $@

test-wasm-kernels: $(BUILD)/test_kernels_wasm.cjs test-wasm-kernels-relaxed
	node $(BUILD)/test_kernels_wasm.cjs

# The same kernel tests on the relaxed-SIMD build's objects, linked as it is
# (-O1: no wasm-opt). Not SINGLE_FILE: the .wasm has to go through
# tools/relax_simd.mjs first, and it is loaded synchronously from disk
# (-sWASM_ASYNC_COMPILATION=0: Emscripten 3.1.6's async loader tries fetch()
# on a file path in node 20).
$(BUILD)/test_kernels_relaxed.cjs: tests/c/test_kernels.c $(RELAXED_OBJ) $(HDR) tools/relax_simd.mjs
	@mkdir -p $(BUILD)
	$(EMCC) $(WASM_CFLAGS) $(RELAXED_FLAGS) -c tests/c/test_kernels.c -o $(BUILD)/relaxed/test_kernels.o
	$(EMCC) $(RELAXED_LINK) -sWASM_ASYNC_COMPILATION=0 -sALLOW_MEMORY_GROWTH=1 -sENVIRONMENT=node \
	  $(BUILD)/relaxed/test_kernels.o $(RELAXED_OBJ) -o $@
	$(RELAX_SIMD) $(BUILD)/test_kernels_relaxed.wasm $(BUILD)/test_kernels_relaxed.wasm

test-wasm-kernels-relaxed: $(BUILD)/test_kernels_relaxed.cjs
	node --experimental-wasm-relaxed-simd $(BUILD)/test_kernels_relaxed.cjs

# The thread pool (src/threads.c) on its own, in the shared-memory build:
# tests/threads.test.js runs check_pool() with 0, 1 and 2 helpers.
$(BUILD)/test_threads.wasm: tests/c/test_threads.c src/threads.c src/common.c $(HDR)
	@mkdir -p $(BUILD)
	$(EMCC) -O2 -msimd128 -std=c99 -Wall -Isrc --no-entry -sSTANDALONE_WASM -sALLOW_MEMORY_GROWTH=1 \
	  -sINITIAL_MEMORY=16MB -sMAXIMUM_MEMORY=4GB -sTOTAL_STACK=1MB $(MT_FLAGS) \
	  -sEXPORTED_FUNCTIONS=_check_pool,_check_trap,_sw_malloc,_sw_free,_sw_thread_main,_sw_thread_failed,_sw_threads_start,_sw_threads_stop,_sw_threads_count,_sw_last_error \
	  tests/c/test_threads.c src/threads.c src/common.c -o $@

# node:test suites; they load dist/sentence-wasm.wasm. The browser suites
# (tests/browser/) are left to test-browser, so `make test` runs them once.
JS_TESTS := $(filter-out tests/browser/%,$(wildcard tests/*.test.js tests/*/*.test.js))
test-js: wasm $(BUILD)/test_threads.wasm
	node --test $(JS_TESTS)

# The golden-fixture suites again on the relaxed-SIMD build: every recorded
# call within 1e-4 of the reference. SENTENCE_WASM_BUILD=relaxed forces that
# build, so a load fails (instead of falling back to the plain build) where
# relaxed SIMD is missing; Node 20 needs the flag (node --test passes it on to
# each test file's process).
RELAXED_JS_TESTS := tests/sentence_transformer.test.js tests/cross_encoder.test.js tests/sparse_encoder.test.js \
  tests/default_model.test.js tests/threads.test.js
test-js-relaxed: wasm $(BUILD)/test_threads.wasm
	SENTENCE_WASM_BUILD=relaxed node --experimental-wasm-relaxed-simd --test $(RELAXED_JS_TESTS)

# Headless Chromium (Debian's /usr/bin/chromium) against web/serve.mjs: browser
# numerics with and without cross-origin isolation, the Cache API, the demo
# page, bundled apps (Vite, esbuild). They skip only when Chromium is absent and
# CI is not set.
test-browser: wasm
	node --test tests/browser/

# Everything CI runs: C under sanitizers, SIMD kernels in WASM (plain and
# relaxed SIMD), node:test (and the fixture suites on the relaxed build),
# headless Chromium, and a bounded libFuzzer pass (about 80 s).
test: test-native test-wasm-kernels test-js test-js-relaxed test-browser fuzz-ci

clean:
	rm -rf $(BUILD) $(DIST)

# ---- benchmarks ----
# bench-gemm: this machine's WASM SIMD128 f32 peak (register-only f32x4
# mul+add loops, 4..12 accumulators, best of) against sw_linear_forward on
# the BERT shapes (4096x384x384, 4096x384x1536, 4096x1536x384, ...), in node.
# Times are process CPU time, so a busy machine skews them less.
#   -O3 -msimd128   as the engine's build
#   -std=gnu99      the CPU clock is an EM_ASM call, refused under -std=c99
#   -sSINGLE_FILE   the .wasm inlined: Emscripten 3.1.6's loader cannot fetch it in node 20
#   .cjs            the glue is CommonJS, and package.json says "type": "module"
#   make bench-gemm BENCH_REPS=15   more runs per measurement (best of)
#   make bench-gemm BENCH_ONLY=attn only attention (per head, float and int8, n = 8..512,
#                                   d = 32) and GELU (ns per float)
#   make bench-gemm BENCH_ONLY=chain  only one thread's memory read rate and
#                                   the short-text pass over a 6-layer
#                                   encoder's Linear layers, m = 1..16 rows
# Then the same for the relaxed-SIMD build (peak: relaxed_madd chains; GEMM:
# the engine's relaxed-build objects), linked like test_kernels_relaxed.cjs
# (-O1, not SINGLE_FILE: the .wasm goes through tools/relax_simd.mjs) and run
# with --experimental-wasm-relaxed-simd.
BENCH_REPS ?= 7
BENCH_ONLY ?=
.PHONY: bench-gemm
bench-gemm: bench/gemm_bench.c src/kernels.c $(SIMD_SRC) src/kernels_int8.c src/threads.c src/common.c $(HDR) tools/relax_simd.mjs $(RELAXED_OBJ)
	@mkdir -p $(BUILD)
	$(EMCC) -O3 -msimd128 -std=gnu99 -Wall -Isrc -sSINGLE_FILE=1 -sALLOW_MEMORY_GROWTH=1 \
	  -sENVIRONMENT=node bench/gemm_bench.c src/kernels.c $(SIMD_SRC) src/kernels_int8.c \
	  src/threads.c src/common.c -o $(BUILD)/gemm_bench.cjs
	$(EMCC) -O3 -msimd128 $(RELAXED_FLAGS) -std=gnu99 -Wall -Isrc -c bench/gemm_bench.c -o $(BUILD)/relaxed/gemm_bench.o
	$(EMCC) $(RELAXED_LINK) -sWASM_ASYNC_COMPILATION=0 -sALLOW_MEMORY_GROWTH=1 -sENVIRONMENT=node \
	  $(BUILD)/relaxed/gemm_bench.o $(BUILD)/relaxed/kernels.o $(patsubst src/%.c,$(BUILD)/relaxed/%.o,$(SIMD_SRC)) $(BUILD)/relaxed/kernels_int8.o \
	  $(BUILD)/relaxed/threads.o $(BUILD)/relaxed/common.o -o $(BUILD)/gemm_bench_relaxed.cjs
	$(RELAX_SIMD) $(BUILD)/gemm_bench_relaxed.wasm $(BUILD)/gemm_bench_relaxed.wasm
	node $(BUILD)/gemm_bench.cjs $(BENCH_REPS) $(BENCH_ONLY)
	node --experimental-wasm-relaxed-simd $(BUILD)/gemm_bench_relaxed.cjs $(BENCH_REPS) $(BENCH_ONLY)

# ---- fuzzing (issue 6: hostile input) ----
# libFuzzer targets in tests/fuzz/ for every C entry point that takes outside
# bytes or descriptors: tensor descriptors + F16/BF16 conversion
# (fuzz_tensors), the forward pass and its heads (fuzz_forward), sw_pool and
# sw_l2_normalize (fuzz_heads). Built like test-native, under ASan + UBSan
# (stopping at the first report), plus -fsanitize=fuzzer; needs Debian's clang
# and its fuzzer runtime, libclang-rt-14-dev (installed by `make setup`).
#   make fuzz                    each target for FUZZ_SECONDS (default 60)
#   make fuzz FUZZ_SECONDS=600   a longer hunt
#   make fuzz-ci                 the bounded pass CI runs: 20 s per target
# Seed corpora are written by the targets themselves (SW_FUZZ_SEEDS=<dir>),
# never committed; what the fuzzer finds stays in build/fuzz/corpus/<target>,
# a crashing input in build/fuzz/crash-<target>-*, the full log in
# build/fuzz/<target>.log. A failure prints the log's end and stops make.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := fuzz_tensors fuzz_forward fuzz_heads
FUZZ_CFLAGS  := -std=c99 -O1 -g -Wall -Wextra -Isrc -fsanitize=fuzzer,address,undefined \
  -fno-sanitize-recover=undefined -fno-omit-frame-pointer
# -timeout: one input running 10 s is a hang, a finding; -rss_limit_mb: an
# input that makes the engine allocate 2 GB is one too.
FUZZ_RUN := -timeout=10 -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1

.PHONY: fuzz fuzz-ci

$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz_util.h $(SRC) $(HDR)
	@mkdir -p $(BUILD)/fuzz
	$(FUZZ_CC) $(FUZZ_CFLAGS) $< $(SRC) -lm -o $@

fuzz: $(addprefix $(BUILD)/fuzz/,$(FUZZ_TARGETS))
	@for t in $(FUZZ_TARGETS); do \
	  rm -rf $(BUILD)/fuzz/seeds/$$t && mkdir -p $(BUILD)/fuzz/seeds/$$t $(BUILD)/fuzz/corpus/$$t && \
	  SW_FUZZ_SEEDS=$(BUILD)/fuzz/seeds/$$t $(BUILD)/fuzz/$$t || exit 1; \
	  echo "== $$t: $(FUZZ_SECONDS) s"; \
	  $(BUILD)/fuzz/$$t $(FUZZ_RUN) -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=$(BUILD)/fuzz/crash-$$t- \
	    $(BUILD)/fuzz/corpus/$$t $(BUILD)/fuzz/seeds/$$t > $(BUILD)/fuzz/$$t.log 2>&1 \
	    || { tail -n 40 $(BUILD)/fuzz/$$t.log; echo "fuzz: $$t failed (input in $(BUILD)/fuzz/crash-$$t-*)"; exit 1; }; \
	  grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)|^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' $(BUILD)/fuzz/$$t.log; \
	done

fuzz-ci:
	$(MAKE) fuzz FUZZ_SECONDS=20
