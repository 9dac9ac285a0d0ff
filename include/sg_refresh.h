/* sg_refresh.h: one step of a certificate's life: fetch, validate, keep or
 * keep the old one, and decide when to ask next. No httpd in here: the
 * glue logs what the result says. */
#ifndef SG_REFRESH_H
#define SG_REFRESH_H

#include <apr_pools.h>
#include <apr_time.h>

#include "sg_fetch.h"
#include "sg_registry.h"
#include "sg_schedule.h"
#include "sg_table.h"
#include "sg_validate.h"

typedef struct {
    int timeout;                    /* seconds per exchange */
    apr_time_t deadline;            /* no exchange runs past it, and no
                                     * further responder is tried; 0: none */
    apr_interval_time_t skew;
    apr_interval_time_t max_age;            /* StapleGuardMaxAge */
    apr_interval_time_t no_next_lifetime;   /* StapleGuardNoNextUpdateLifetime */
    sg_schedule_conf_t schedule;
    int family;                     /* StapleGuardAddressFamily: APR_* */
} sg_refresh_conf_t;

typedef struct {
    sg_reason_t reason;             /* of the fetch, else the validation */
    sg_fetch_result_t fetch;
    sg_verdict_t verdict;
    sg_state_t old_state;
    sg_state_t new_state;
    apr_interval_time_t produced_ahead; /* > skew: clocks disagree */
    const char *url;                /* the responder that answered last */
    int url_index;                  /* its place among the entry's */
    const char *failed;             /* "URL (reason); ..." of those that
                                     * failed before it, or NULL */
} sg_refresh_result_t;

/* The rules of a generation, set once before any step runs (deadline
 * stays 0: a batch sets its own). schedule may be NULL (a helper process
 * only judges, it plans nothing). */
void sg_refresh_conf_init(sg_refresh_conf_t *c, int timeout,
                          apr_interval_time_t skew,
                          apr_interval_time_t max_age,
                          apr_interval_time_t no_next_lifetime,
                          const sg_schedule_conf_t *schedule, int family);

/* Fetch and validate now, asking e's responders in order until one gives
 * a response that may be stapled; update e's schedule and slot. rnd in
 * [0, 1). One step per entry at a time (e is the caller's); steps of
 * different entries may run at once in threads of one process (the
 * table keeps their writes apart). */
void sg_refresh_run(sg_refresh_result_t *res, apr_pool_t *p, sg_entry_t *e,
                    sg_table_t *t, const sg_refresh_conf_t *conf,
                    apr_time_t now, double rnd);

/* A result for a step taken elsewhere than sg_refresh_run (a response
 * taken from the shared cache): begin records the state before it (and
 * reason SG_R_OK), end the state after it. */
void sg_refresh_result_begin(sg_refresh_result_t *res, const sg_entry_t *e,
                             sg_table_t *t);
void sg_refresh_result_end(sg_refresh_result_t *res, const sg_entry_t *e,
                           sg_table_t *t);

/* Validate a response found elsewhere (memory carried over a restart, the
 * store) exactly as a fetched one. Touches neither e nor the table, so it
 * may run in any thread. Returns the validation's reason. */
sg_reason_t sg_refresh_check(sg_verdict_t *v, apr_pool_t *p,
                             const sg_entry_t *e, const sg_refresh_conf_t *conf,
                             const unsigned char *der, apr_size_t len,
                             apr_time_t now);

/* Hold a response that sg_refresh_check accepted with verdict v: put it in
 * e's slot and plan the next refresh. info carries over the schedule and
 * the last attempt (may be NULL). SG_R_TABLE_FULL: no room for it. */
sg_reason_t sg_refresh_take(sg_entry_t *e, sg_table_t *t,
                            const sg_refresh_conf_t *conf,
                            const unsigned char *der, apr_size_t len,
                            const sg_verdict_t *v, sg_source_t source,
                            const sg_slot_info_t *info, apr_time_t now,
                            double rnd);

/* A certificate that names no responder: its state, once; it is never
 * asked. */
void sg_refresh_mark_no_url(const sg_entry_t *e, sg_table_t *t);

/* Take up a certificate's schedule from its slot: the fetcher may move to
 * another child process (the old one exited), whose copy of the entry is
 * the parent's from startup. The slot is what every process shares. */
void sg_refresh_resume(sg_entry_t *e, sg_table_t *t);

/* Continue a retry schedule an earlier generation planned (the next
 * attempt and the failures so far), so that a restart adds no request. */
void sg_refresh_continue(sg_entry_t *e, apr_time_t next_due, int failures);

/* Mark a held response that passed its nextUpdate as expired. Returns
 * non-zero when the state changed (so the glue logs it once). */
int sg_refresh_expire(sg_entry_t *e, sg_table_t *t, apr_time_t now);

#endif
