/*
 * threads.c — thread 0 hands tasks to helper threads over shared memory
 * (threads.h), and the public start/stop calls of sentence_wasm.h.
 *
 * The protocol, all in one struct in linear memory (which every thread's
 * instance shares):
 *   - a helper enters sw_thread_main(), takes the next thread index and
 *     waits for `gen` to change (memory.atomic.wait32 after a short spin);
 *   - thread 0 fills in fn/arg/n_tasks, sets `next` = 0 and `pending` = the
 *     number of helpers, bumps `gen` and wakes them; every thread, thread 0
 *     included, takes task indices from `next` until they run out;
 *   - each helper decrements `pending` when it finds no task left; thread 0
 *     returns once `pending` is 0, so no helper still reads this job when
 *     the next one is published.
 * The helper count is fixed by sw_threads_start(), which waits until
 * exactly that many helpers are inside sw_thread_main(): a helper arriving
 * in the middle of a job could otherwise be missing from `pending`.
 *
 * Without WebAssembly atomics (the single-threaded builds, native tests)
 * there are no helpers and sw_parallel_for() is a loop.
 */
#include "threads.h"
#include "internal.h"

#if defined(__wasm__) && defined(__wasm_atomics__)
#define SW_HAVE_THREADS 1
#else
#define SW_HAVE_THREADS 0
#endif

/* Loads of a flag before a thread sleeps: the serial work between two jobs
 * of a layer (a LayerNorm, a softmax row) is shorter than a wake-up. */
#define SPINS 20000

static struct {
    int32_t gen;        /* bumped once per job, and once by sw_threads_stop */
    int32_t quit;       /* helpers return when they see it with a new gen   */
    int32_t registered; /* helpers inside sw_thread_main                    */
    int32_t n_helpers;  /* helpers taking part in jobs (sw_threads_start)   */
    int32_t next;       /* next task index of the current job               */
    int32_t pending;    /* helpers not yet finished with the current job    */
    int32_t busy;       /* thread 0 is inside sw_parallel_for               */
    int32_t failed;     /* a helper trapped (sw_thread_failed), unreported  */
    int32_t n_tasks;
    sw_task_fn fn;
    void *arg;
} pool;

int32_t sw_threads_count(void) { return 1 + pool.n_helpers; }

#if SW_HAVE_THREADS

/* Runs tasks of the current job until none is left. */
static void run_tasks(int32_t thread) {
    for (;;) {
        const int32_t t = __atomic_fetch_add(&pool.next, 1, __ATOMIC_SEQ_CST);
        if (t >= pool.n_tasks) return;
        pool.fn(pool.arg, t, thread);
    }
}

static int32_t load(int32_t *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }

/* memory.atomic.wait32 lives in a function of its own, called through a
 * pointer that no optimizer can see through (so it is never inlined): the
 * baseline compiler of Node 20's V8 (Liftoff, V8 11.3) loses values a
 * function keeps in registers across that instruction. Seen here as a
 * helper's thread index read back as 0 after a wait, so two threads shared
 * one scratch slice; across a call every value is saved in the frame. */
static void sleep_on(int32_t *p, int32_t value, int64_t timeout_ns) {
    __builtin_wasm_memory_atomic_wait32(p, value, timeout_ns);
}
static void (*volatile sleep_fn)(int32_t *, int32_t, int64_t) = sleep_on;

/* Returns once *p != value: spins first, then sleeps on the address. */
static void wait_while(int32_t *p, int32_t value) {
    for (int i = 0; load(p) == value; i++)
        if (i >= SPINS) sleep_fn(p, value, -1);
}

void sw_parallel_for(int32_t n_tasks, sw_task_fn fn, void *arg) {
    if (n_tasks <= 0) return;
    if (pool.n_helpers == 0 || pool.busy || n_tasks == 1) {
        for (int32_t t = 0; t < n_tasks; t++) fn(arg, t, 0);
        return;
    }
    pool.busy = 1;
    pool.fn = fn;
    pool.arg = arg;
    pool.n_tasks = n_tasks;
    __atomic_store_n(&pool.next, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&pool.pending, pool.n_helpers, __ATOMIC_SEQ_CST);
    __atomic_fetch_add(&pool.gen, 1, __ATOMIC_SEQ_CST);   /* publishes the job */
    __builtin_wasm_memory_atomic_notify(&pool.gen, (uint32_t)pool.n_helpers);
    run_tasks(0);
    int32_t p;
    while ((p = load(&pool.pending)) != 0) wait_while(&pool.pending, p);
    pool.busy = 0;
    /* A helper that failed is gone; waiting for it in the next job would
     * hang, so the rest stop too and later jobs run here. */
    if (load(&pool.failed)) sw_threads_stop();
}

void sw_thread_failed(void) {
    /* A helper traps only inside a task (run_tasks), so it had not yet
     * counted itself out of the job: do that for it. */
    __atomic_store_n(&pool.failed, 1, __ATOMIC_SEQ_CST);
    __atomic_fetch_sub(&pool.registered, 1, __ATOMIC_SEQ_CST);
    __builtin_wasm_memory_atomic_notify(&pool.registered, 1);
    if (__atomic_sub_fetch(&pool.pending, 1, __ATOMIC_SEQ_CST) == 0)
        __builtin_wasm_memory_atomic_notify(&pool.pending, 1);
}

int sw_threads_check(void) {
    if (!__atomic_exchange_n(&pool.failed, 0, __ATOMIC_SEQ_CST)) return SW_OK;
    return sw_fail(SW_ERR_STATE, "a helper thread failed (a WebAssembly trap); this call's results are lost, "
                                 "and the engine now runs on one thread");
}

void sw_thread_main(void) {
    int32_t seen = load(&pool.gen);
    const int32_t thread = __atomic_add_fetch(&pool.registered, 1, __ATOMIC_SEQ_CST);
    __builtin_wasm_memory_atomic_notify(&pool.registered, 1);
    if (thread >= SW_MAX_THREADS) {           /* more helpers than scratch slots */
        __atomic_fetch_sub(&pool.registered, 1, __ATOMIC_SEQ_CST);
        return;
    }
    for (;;) {
        wait_while(&pool.gen, seen);
        seen = load(&pool.gen);
        if (load(&pool.quit)) break;
        run_tasks(thread);
        if (__atomic_sub_fetch(&pool.pending, 1, __ATOMIC_SEQ_CST) == 0)
            __builtin_wasm_memory_atomic_notify(&pool.pending, 1);
    }
    __atomic_fetch_sub(&pool.registered, 1, __ATOMIC_SEQ_CST);
    __builtin_wasm_memory_atomic_notify(&pool.registered, 1);
}

/* Waits until pool.registered == want, or timeout_ms passes; returns the count. */
static int32_t wait_registered(int32_t want, int32_t timeout_ms) {
    const int64_t slice_ns = 10 * 1000 * 1000;   /* re-check every 10 ms */
    int32_t r;
    for (int64_t waited = 0; (r = load(&pool.registered)) != want; waited += 10) {
        if (waited >= timeout_ms) break;
        sleep_fn(&pool.registered, r, slice_ns);
    }
    return r;
}

int sw_threads_start(int32_t n_helpers, int32_t timeout_ms) {
    sw_clear_error();
    if (n_helpers < 0 || n_helpers >= SW_MAX_THREADS || timeout_ms < 0)
        return sw_fail(SW_ERR_INVALID_ARG, "threads_start: %d helpers (allowed 0..%d), timeout %d ms",
                       (int)n_helpers, SW_MAX_THREADS - 1, (int)timeout_ms);
    if (pool.n_helpers != 0) return sw_fail(SW_ERR_STATE, "threads_start: helpers are already running");
    const int32_t r = wait_registered(n_helpers, timeout_ms);
    if (r != n_helpers)
        return sw_fail(SW_ERR_STATE, "threads_start: %d of %d helper threads are running", (int)r, (int)n_helpers);
    pool.n_helpers = n_helpers;
    return SW_OK;
}

void sw_threads_stop(void) {
    if (load(&pool.registered) == 0) { /* none left (the last one may have failed) */
        pool.n_helpers = 0;
        return;
    }
    __atomic_store_n(&pool.quit, 1, __ATOMIC_SEQ_CST);
    __atomic_fetch_add(&pool.gen, 1, __ATOMIC_SEQ_CST);
    __builtin_wasm_memory_atomic_notify(&pool.gen, SW_MAX_THREADS);
    wait_registered(0, 1000);
    pool.n_helpers = 0;
    __atomic_store_n(&pool.quit, 0, __ATOMIC_SEQ_CST);
}

#else /* no threads in this build */

void sw_parallel_for(int32_t n_tasks, sw_task_fn fn, void *arg) {
    for (int32_t t = 0; t < n_tasks; t++) fn(arg, t, 0);
}

void sw_thread_main(void) {}

void sw_thread_failed(void) {}

int sw_threads_check(void) { return SW_OK; }

int sw_threads_start(int32_t n_helpers, int32_t timeout_ms) {
    sw_clear_error();
    (void)timeout_ms;
    if (n_helpers == 0) return SW_OK;
    return sw_fail(SW_ERR_STATE, "threads_start: this build has no threads (use sentence-wasm-mt.wasm)");
}

void sw_threads_stop(void) {}

#endif
