/* sg_workq.h: work handed to background threads as it arrives, while the
 * caller goes on with something else; optionally bounded per key (at most
 * so many items of one responder host at once) and by a deadline.
 *
 * The fetcher's batches run on it: at most StapleGuardFetchConcurrency
 * at once, a few per responder host, nothing begun after the startup
 * budget. (The startup work beside mod_ssl runs in helper processes, not
 * here: httpd/sgh_helper.h says why.)
 *
 * Pools are not thread-safe: every thread gets pools of its own, created
 * by the caller's thread, and the caller's pools are never touched by the
 * others. */
#ifndef SG_WORKQ_H
#define SG_WORKQ_H

#include <apr_pools.h>
#include <apr_time.h>

typedef struct sg_workq_t sg_workq_t;

/* Called once per pushed item, in some thread (the caller's too, within
 * sg_workq_finish and sg_workq_wait). keep: that thread's, lives as long
 * as the keep pool given to sg_workq_create; temp: that thread's, lives as
 * long as the temp pool given. */
typedef void sg_workq_fn_t(void *ctx, void *item, apr_pool_t *keep,
                           apr_pool_t *temp);

/* Called in the caller's thread, before any thread starts, once for each
 * thread's keep pool and once for the caller's own: to set up what must
 * not be set up concurrently with the caller's other work. May be NULL. */
typedef void sg_workq_init_fn_t(void *ctx, apr_pool_t *keep);

/* A child of parent with an allocator of its own: one thread may use it
 * while others use its parent's, and what it held goes back to malloc
 * when it is destroyed, not to the parent's allocator (which keeps what
 * it is given). */
apr_status_t sg_workq_pool(apr_pool_t **pp, apr_pool_t *parent);

/* Start up to `threads` threads (0: everything runs in the caller, at
 * sg_workq_finish). keep and temp are where results go; temp must die no
 * later than keep. If temp or keep is cleaned up before sg_workq_finish,
 * the queue stops: queued items are dropped and the threads joined (in
 * the process that made them only: a child forked meanwhile has none). */
apr_status_t sg_workq_create(sg_workq_t **pq, apr_pool_t *keep,
                             apr_pool_t *temp, int threads,
                             sg_workq_init_fn_t *init, sg_workq_fn_t *fn,
                             void *ctx);

/* Bounds, set before the first push: at most per_key items of one key
 * run at once (0: no limit; items after a blocked one go first); items
 * not begun by deadline are left out (0: none). */
void sg_workq_limit(sg_workq_t *q, int per_key, apr_time_t deadline);

/* Queue an item (kept by pointer) under key (NULL: none; copied). Returns
 * at once; cannot fail (APR aborts the process when memory runs out). */
void sg_workq_push(sg_workq_t *q, void *item, const char *key);

/* Return once item is done, running it here if no thread has begun it.
 * item must have been pushed. */
void sg_workq_wait(sg_workq_t *q, void *item);

/* Run what is left in the caller too, then join the threads. Every pushed
 * item is done, or left out at the deadline, when it returns. Once only;
 * nothing is pushed after. Returns how many were left out. */
int sg_workq_finish(sg_workq_t *q);

/* Threads started (fewer than asked when the system refused some: their
 * share is then done by the caller, in sg_workq_finish). */
int sg_workq_threads(const sg_workq_t *q);

/* Items done so far, by any thread. */
int sg_workq_done(sg_workq_t *q);

#endif
