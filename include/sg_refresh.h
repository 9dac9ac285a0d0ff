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

/* Fetch and validate now, asking e's responders in order until one gives
 * a response that may be stapled; update e's schedule and slot. rnd in
 * [0, 1). */
void sg_refresh_run(sg_refresh_result_t *res, apr_pool_t *p, sg_entry_t *e,
                    sg_table_t *t, const sg_refresh_conf_t *conf,
                    apr_time_t now, double rnd);

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
