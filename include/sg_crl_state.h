/* sg_crl_state.h: what a CRL watch's outcome makes of a certificate's
 * slot in the shared table, and when to download next. */
#ifndef SG_CRL_STATE_H
#define SG_CRL_STATE_H

#include <apr_time.h>

#include "sg_reason.h"
#include "sg_table.h"

/* Downloads of one CRL URL are at least this far apart (however soon its
 * nextUpdate; the status page's refresh action aside) and at most this
 * far (however late: CAs publish before nextUpdate, Let's Encrypt's
 * shards every few hours while they say a week). */
#define SG_CRL_INTERVAL_MIN apr_time_from_sec(3600)
#define SG_CRL_INTERVAL_MAX apr_time_from_sec(86400)
/* The next download comes up to this share earlier than the bound says,
 * so that servers that started together do not stay in step. */
#define SG_CRL_JITTER_PERCENT 10

typedef struct {
    sg_reason_t reason;             /* SG_R_OK: the CRL was judged */
    int revoked;
    apr_time_t revoked_at;
    int revocation_reason;          /* CRLReason, -1: none */
    apr_time_t this_update;         /* the CRL's (kept on failure) */
    apr_time_t next_update;
    apr_time_t attempt;
    apr_interval_time_t latency;
    int failures;
    apr_time_t next_attempt;
    int restored;                   /* taken from the store: no attempt
                                     * made, none counted */
} sg_crl_outcome_t;

/* Write o into slot i: revoked or crl-good when judged; crl-failing when
 * not, except that a revocation once seen stays (a CRL that cannot be
 * had says nothing new). The attempt is counted by its reason. Returns
 * the state the slot had. */
sg_state_t sg_crl_record(sg_table_t *t, int i, const sg_crl_outcome_t *o);

/* When to download again after a CRL valid until next_update (0: none)
 * was judged: at next_update, within SG_CRL_INTERVAL_MIN and _MAX from
 * now, up to SG_CRL_JITTER_PERCENT earlier; rnd is uniform in [0, 1). */
apr_time_t sg_crl_schedule(apr_time_t next_update, apr_time_t now,
                           double rnd);

#endif
