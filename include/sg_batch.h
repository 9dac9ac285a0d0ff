/* sg_batch.h: run a piece of work for many entries with bounded
 * concurrency: at most `concurrency` at once overall and at most
 * `per_host` at once for one responder host, so that 1,000 certificates
 * never mean 1,000 connections, nor a burst at one CA. */
#ifndef SG_BATCH_H
#define SG_BATCH_H

#include <apr_pools.h>
#include <apr_time.h>

#include "sg_registry.h"

/* Called once per entry, in some thread, with a pool of its own. */
typedef void sg_batch_fn_t(void *ctx, sg_entry_t *e, apr_pool_t *p);

typedef struct {
    int concurrency;        /* >= 1; 1 runs everything in the caller */
    int per_host;           /* >= 1 */
    apr_time_t deadline;    /* 0: none; entries not begun by then are
                             * left out */
} sg_batch_conf_t;

/* Run fn for each of the n entries. Returns how many were left out
 * because of the deadline. */
int sg_batch_run(apr_pool_t *p, sg_entry_t **entries, int n,
                 const sg_batch_conf_t *conf, sg_batch_fn_t *fn, void *ctx);

/* The part of a URL that names the responder host: "host:port". */
const char *sg_batch_host(apr_pool_t *p, const char *url);

#endif
