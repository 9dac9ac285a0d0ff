/* sgh_helper.h: work done at startup in helper processes started by
 * httpd's, its results coming back as bytes (sg_pack.h).
 *
 * Why processes and not threads: once httpd's process has started a
 * second thread, every malloc and free in httpd's own thread pays for
 * locking, for the rest of the process's life, and each memory mapping
 * it changes must be flushed on the other processors too; with 10,000
 * virtual hosts mod_ssl does a great deal of both. A helper is a
 * program of its own, httpd's started afresh with only this module
 * loaded: it shares nothing with httpd's process, not even the pages a
 * fork would (docs/design.md, "Startup work"). */
#ifndef SGH_HELPER_H
#define SGH_HELPER_H

#include <unistd.h>

#include <apr_pools.h>

#include "sg_pack.h"

typedef struct sgh_helper_t sgh_helper_t;

/* In a helper: the first record (what it needs of the configuration),
 * with a pool that lives as long as the helper. 0: it cannot serve. */
typedef int sgh_helper_hello_fn(void *ctx, sg_unpack_t *hello,
                                apr_pool_t *keep);

/* In a helper: one job's bytes in, its result record out (empty, in
 * temp). keep lives as long as the helper, temp as long as the job. */
typedef void sgh_helper_job_fn(void *ctx, sg_unpack_t *job, sg_pack_t *out,
                               apr_pool_t *keep, apr_pool_t *temp);

/* In httpd's process: one result record, as the helper packed it. */
typedef void sgh_helper_result_fn(void *ctx, sg_unpack_t *result);

/* Start up to n helpers, each sent hello first; fewer when the system
 * refuses (sgh_helper_count). If p is cleaned up before
 * sgh_helper_finish, they are killed and reaped (in this process only:
 * not in a process another module forks from it meanwhile). */
apr_status_t sgh_helper_start(sgh_helper_t **ph, apr_pool_t *p, int n,
                              const sg_pack_t *hello,
                              sgh_helper_result_fn *result, void *ctx);

/* Helpers still working. */
int sgh_helper_count(const sgh_helper_t *h);

/* Send a job to the next helper; results that came back meanwhile go to
 * result. APR_EGENERAL when no helper took it: the caller does it. */
apr_status_t sgh_helper_send(sgh_helper_t *h, const sg_pack_t *job);

/* No more jobs: hand every result still to come to result, and reap the
 * helpers. A job whose result never came (a helper that died, or sent
 * nothing for SGH_HELPER_STALL) is the caller's to do. Returns how many
 * helpers were lost that way. */
int sgh_helper_finish(sgh_helper_t *h);

/* In the process StapleGuardStartupHelper runs in: NULL when it was
 * started as a helper by parent, else why it cannot be one. */
const char *sgh_helper_check(pid_t parent);

/* Serve as a helper on standard input until the end mark or parent's
 * death, then _exit: never returns. */
void sgh_helper_serve(pid_t parent, sgh_helper_hello_fn *hello,
                      sgh_helper_job_fn *job, void *ctx);

#endif
