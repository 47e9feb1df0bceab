/*
 * threads.c — thread 0 hands tasks to helper threads over shared memory
 * (threads.h), and the public start/stop calls of sentence_wasm.h.
 *
 * The protocol, all in one struct in linear memory (which every thread's
 * instance shares). A job is published in one word, `job`: its generation,
 * whether it is open, and how many helpers are in it.
 *   - a helper enters sw_thread_main(), takes the next thread index and
 *     waits for the generation to change (memory.atomic.wait32 after a
 *     short spin);
 *   - thread 0 fills in fn/arg/n_tasks, sets `next` = 0 and publishes the
 *     job, open, with no helper in it; every thread, thread 0 included,
 *     takes task indices from `next` until they run out;
 *   - a helper joins an open job by counting itself in (compare-exchange on
 *     the word) and counts itself out when it finds no task left;
 *   - thread 0, out of tasks, closes the job and waits only for the helpers
 *     counted in it (the last one out stores `drained`), so no helper still
 *     reads this job when the next one is published.
 * A helper that was asleep and wakes after the job closed does not join it,
 * and nobody waits for it: waking a sleeping thread costs more than a short
 * job (tens of microseconds on a VM), and a one-text encode has ~50 jobs.
 * The helper count is fixed by sw_threads_start(), which waits until
 * exactly that many helpers are inside sw_thread_main(); a helper with a
 * thread index past it never joins (it has no scratch slot).
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

/* The job word: generation << 8 | JOB_OPEN | helpers in the job. */
#define JOB_OPEN  0x80
#define JOB_COUNT 0x7f   /* up to SW_MAX_THREADS - 1 helpers */
#define JOB_GEN(w) ((uint32_t)(w) >> 8)

static struct {
    int32_t job;        /* generation, open flag, helpers in (above)          */
    int32_t drained;    /* generation of the last job its last helper left    */
    int32_t quit;       /* helpers return when they see it with a new gen     */
    int32_t registered; /* helpers inside sw_thread_main                      */
    int32_t n_helpers;  /* helpers taking part in jobs (sw_threads_start)     */
    int32_t next;       /* next task index of the current job                 */
    int32_t busy;       /* thread 0 is inside sw_parallel_for                 */
    int32_t failed;     /* a helper trapped (sw_thread_failed), unreported    */
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

/* A helper counts itself out of the current job; the last one out of a
 * closed job tells thread 0. */
static void leave_job(void) {
    const int32_t w = __atomic_sub_fetch(&pool.job, 1, __ATOMIC_SEQ_CST);
    if ((w & JOB_COUNT) == 0 && !(w & JOB_OPEN)) {
        __atomic_store_n(&pool.drained, (int32_t)JOB_GEN(w), __ATOMIC_SEQ_CST);
        __builtin_wasm_memory_atomic_notify(&pool.drained, 1);
    }
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
    const int32_t drained = load(&pool.drained);
    /* No helper is in a job here (the last one drained), so the word is
     * the generation alone: publish the next one, open. */
    const uint32_t gen = JOB_GEN(load(&pool.job)) + 1;
    __atomic_store_n(&pool.job, (int32_t)(gen << 8 | JOB_OPEN), __ATOMIC_SEQ_CST);
    __builtin_wasm_memory_atomic_notify(&pool.job, (uint32_t)pool.n_helpers);
    run_tasks(0);
    /* Every task is taken: close the job, then wait for the helpers in it. */
    int32_t w = __atomic_and_fetch(&pool.job, ~JOB_OPEN, __ATOMIC_SEQ_CST);
    while ((w & JOB_COUNT) != 0) {
        wait_while(&pool.drained, drained);
        w = load(&pool.job);
    }
    pool.busy = 0;
    /* A helper that failed is gone; the rest stop too and later jobs run
     * here, on one thread. */
    if (load(&pool.failed)) sw_threads_stop();
}

void sw_thread_failed(void) {
    /* A helper traps only inside a task (run_tasks), so it is still
     * counted in the job: count it out. */
    __atomic_store_n(&pool.failed, 1, __ATOMIC_SEQ_CST);
    __atomic_fetch_sub(&pool.registered, 1, __ATOMIC_SEQ_CST);
    __builtin_wasm_memory_atomic_notify(&pool.registered, 1);
    leave_job();
}

int sw_threads_check(void) {
    if (!__atomic_exchange_n(&pool.failed, 0, __ATOMIC_SEQ_CST)) return SW_OK;
    return sw_fail(SW_ERR_STATE, "a helper thread failed (a WebAssembly trap); this call's results are lost, "
                                 "and the engine now runs on one thread");
}

void sw_thread_main(void) {
    uint32_t seen = JOB_GEN(load(&pool.job));
    const int32_t thread = __atomic_add_fetch(&pool.registered, 1, __ATOMIC_SEQ_CST);
    __builtin_wasm_memory_atomic_notify(&pool.registered, 1);
    if (thread >= SW_MAX_THREADS) {           /* more helpers than scratch slots */
        __atomic_fetch_sub(&pool.registered, 1, __ATOMIC_SEQ_CST);
        return;
    }
    for (;;) {
        int32_t w = load(&pool.job);
        if (JOB_GEN(w) == seen) {             /* nothing new: wait for a change of the word */
            wait_while(&pool.job, w);
            continue;
        }
        if (load(&pool.quit)) break;
        if (!(w & JOB_OPEN) || thread > load(&pool.n_helpers)) {
            seen = JOB_GEN(w);                /* closed already, or no slot: skip it */
            continue;
        }
        /* Join; if the word changed first (another helper joined, or the
         * job closed) look again. */
        if (!__atomic_compare_exchange_n(&pool.job, &w, w + 1, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
            continue;
        seen = JOB_GEN(w);
        run_tasks(thread);
        leave_job();
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
    __atomic_store_n(&pool.n_helpers, n_helpers, __ATOMIC_SEQ_CST); /* helpers read it (sw_thread_main) */
    return SW_OK;
}

void sw_threads_stop(void) {
    if (load(&pool.registered) == 0) { /* none left (the last one may have failed) */
        __atomic_store_n(&pool.n_helpers, 0, __ATOMIC_SEQ_CST); /* helpers read it (sw_thread_main) */
        return;
    }
    __atomic_store_n(&pool.quit, 1, __ATOMIC_SEQ_CST);
    /* a new generation, closed: helpers see it and the quit flag */
    __atomic_store_n(&pool.job, (int32_t)((JOB_GEN(load(&pool.job)) + 1) << 8), __ATOMIC_SEQ_CST);
    __builtin_wasm_memory_atomic_notify(&pool.job, SW_MAX_THREADS);
    wait_registered(0, 1000);
    __atomic_store_n(&pool.n_helpers, 0, __ATOMIC_SEQ_CST); /* helpers read it (sw_thread_main) */
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
