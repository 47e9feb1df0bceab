/*
 * threads.h — a parallel-for over helper threads that share the engine's
 * memory. Internal to the engine.
 *
 * In the shared-memory WebAssembly build (sentence-wasm-mt.wasm: -matomics,
 * one imported shared memory) JS starts helper workers that instantiate the
 * same module on the same memory and call sw_thread_main(); from then on the
 * thread that runs the model (thread 0) hands them tasks with
 * sw_parallel_for(). In every other build there are no helpers and
 * sw_parallel_for() is a plain loop, so callers have one code path.
 *
 * Rules for a task function:
 *  - it may run on any thread, in any order, concurrently with the others;
 *  - it writes only memory no other task of the same call writes;
 *  - it never allocates (the C library's allocator is single-threaded) and
 *    never reports an error; per-thread scratch comes from the caller,
 *    indexed by `thread` (0 .. sw_threads_count()-1, sentence_wasm.h).
 */
#ifndef SW_THREADS_H
#define SW_THREADS_H

#include "sentence_wasm.h"

#include <stdint.h>

typedef void (*sw_task_fn)(void *arg, int32_t task, int32_t thread);

/* Runs fn(arg, t, thread) for every t in [0, n_tasks) and returns when all
 * have finished. Called from thread 0 only; a call made from inside a task
 * runs its tasks serially on the calling thread. */
void sw_parallel_for(int32_t n_tasks, sw_task_fn fn, void *arg);

/* SW_OK, or (once) SW_ERR_STATE with the error set if a helper failed in a
 * job since the last check (sw_thread_failed): the results of the jobs run
 * since are incomplete. Every public entry point that runs jobs returns
 * this at its end. */
int sw_threads_check(void);

#endif /* SW_THREADS_H */
