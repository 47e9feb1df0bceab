/*
 * test_threads.c — the thread pool of src/threads.c, exercised by
 * tests/threads.test.js in the shared-memory build (make
 * build/test_threads.wasm), with 0, 1 and 2 helper threads.
 *
 * check_pool() runs `jobs` parallel-fors of `n_tasks` tasks each, with
 * `gap` loop turns of serial work on thread 0 before each (long enough, and
 * the helpers are asleep when a job is published: jobs then often end
 * before a helper wakes, and it must skip them), and counts what went
 * wrong:
 *   - a task that ran zero times or twice in a job (atomic per-task counts);
 *   - a thread index outside 0 .. sw_threads_count()-1;
 *   - two threads running tasks under the same index at the same time,
 *     which per-thread scratch would not survive: each task adds to its
 *     thread's slot with a plain read-modify-write, and the slots must sum
 *     to the number of tasks run (lost updates show up as a shortfall).
 * Tasks spin a little so that helpers, not only thread 0, take some.
 */
#include "sentence_wasm.h"
#include "threads.h"

#include <stdint.h>

typedef struct job {
    int32_t *runs;      /* [n_tasks] runs of each task in this job     */
    int32_t *slots;     /* [SW_MAX_THREADS] tasks per thread index      */
    int32_t *by_thread; /* [SW_MAX_THREADS] the same, counted atomically */
    int32_t bad_index;
} job;

static void task(void *arg, int32_t t, int32_t thread) {
    job *j = (job *)arg;
    if (thread < 0 || thread >= sw_threads_count()) {
        __atomic_fetch_add(&j->bad_index, 1, __ATOMIC_SEQ_CST);
        return;
    }
    volatile int32_t spin = 0;
    for (int32_t i = 0; i < 500; i++) spin = spin + i;
    __atomic_fetch_add(&j->runs[t], 1, __ATOMIC_SEQ_CST);
    int32_t *slot = &j->slots[thread];
    const int32_t before = *(volatile int32_t *)slot;
    for (int32_t i = 0; i < 50; i++) spin = spin + i;   /* widen the window */
    *(volatile int32_t *)slot = before + 1;
    __atomic_fetch_add(&j->by_thread[thread], 1, __ATOMIC_SEQ_CST);
}

/* check_trap(): a job in which a helper traps in its first task (as an
 * out-of-bounds access in a kernel would). Thread 0's tasks wait until a
 * helper has taken one, so that one does. Returns sw_threads_check(), which
 * must report the failure (and only once). */
static volatile int32_t helper_started;

static void trap_task(void *arg, int32_t t, int32_t thread) {
    (void)arg; (void)t;
    if (thread != 0) {
        helper_started = 1;
        __builtin_trap();
    }
    for (int64_t i = 0; i < 2000000000 && !helper_started; i++) {}
}

int32_t check_trap(int32_t n_tasks) {
    helper_started = 0;
    sw_parallel_for(n_tasks, trap_task, 0);
    const int first = sw_threads_check();
    const int second = sw_threads_check();
    return first != SW_OK && second == SW_OK ? first : 0;
}

/* `ws` holds n_tasks + 2 * SW_MAX_THREADS int32. Returns the number of
 * failures; by_thread (ws + n_tasks + SW_MAX_THREADS) is left with the
 * tasks each thread ran over all jobs. */
int32_t check_pool(int32_t *ws, int32_t jobs, int32_t n_tasks, int32_t gap) {
    int32_t failures = 0;
    job j = {ws, ws + n_tasks, ws + n_tasks + SW_MAX_THREADS, 0};
    for (int32_t i = 0; i < 2 * SW_MAX_THREADS; i++) j.slots[i] = 0;
    for (int32_t g = 0; g < jobs; g++) {
        for (int32_t t = 0; t < n_tasks; t++) j.runs[t] = 0;
        volatile int32_t spin = 0;
        for (int32_t i = 0; i < gap; i++) spin = spin + i;
        sw_parallel_for(n_tasks, task, &j);
        for (int32_t t = 0; t < n_tasks; t++) failures += j.runs[t] != 1;
    }
    int32_t sum = 0, atomic_sum = 0;
    for (int32_t i = 0; i < SW_MAX_THREADS; i++) {
        sum += j.slots[i];
        atomic_sum += j.by_thread[i];
    }
    failures += j.bad_index;
    failures += sum != atomic_sum;                  /* a thread index shared */
    failures += atomic_sum != jobs * n_tasks - j.bad_index;
    return failures;
}
