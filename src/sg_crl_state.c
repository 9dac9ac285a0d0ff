/* sg_crl_state.c: a CRL watch's outcome into the shared table. */
#include "sg_crl_state.h"

#define SG_CRL_PERCENT 100

/* What a CRL verdict changes in a slot, applied under the slot's lock to
 * the info held then (sg_table_edit). */
typedef struct {
    const sg_crl_outcome_t *o;
    sg_state_t old;                 /* out: the state before */
} sg_crl_edit_t;

static void sg_crl_edit(sg_slot_info_t *info, void *arg)
{
    sg_crl_edit_t *ed = arg;
    const sg_crl_outcome_t *o = ed->o;

    ed->old = info->state;
    info->crl = 1;
    info->last_attempt = o->attempt;
    info->last_result = o->reason;
    info->latency = o->latency;
    info->failures = o->failures;
    info->next_attempt = o->next_attempt;
    info->source = o->restored ? SG_SOURCE_STORE : SG_SOURCE_FETCHED;
    if (o->reason == SG_R_OK) {
        info->state = o->revoked ? SG_STATE_REVOKED : SG_STATE_CRL_GOOD;
        info->revoked = o->revoked;
        info->revoked_at = o->revoked ? o->revoked_at : 0;
        info->revocation_reason = o->revoked ? o->revocation_reason : -1;
        info->this_update = o->this_update;
        info->next_update = o->next_update;
    }
    else if (ed->old != SG_STATE_REVOKED) {
        info->state = SG_STATE_CRL_FAILING;
    }
}

sg_state_t sg_crl_record(sg_table_t *t, int i, const sg_crl_outcome_t *o)
{
    sg_crl_edit_t ed = { o, SG_STATE_NONE };

    sg_table_edit(t, i, sg_crl_edit, &ed);
    if (!o->restored) {
        sg_table_count_attempts(t, o->reason, 1);
    }
    return ed.old;
}

apr_time_t sg_crl_schedule(apr_time_t next_update, apr_time_t now,
                           double rnd)
{
    apr_interval_time_t delay = next_update > now ? next_update - now
                                                  : SG_CRL_INTERVAL_MIN;

    if (next_update == 0 || delay > SG_CRL_INTERVAL_MAX) {
        delay = SG_CRL_INTERVAL_MAX;
    }
    if (delay < SG_CRL_INTERVAL_MIN) {
        delay = SG_CRL_INTERVAL_MIN;
    }
    delay -= (apr_interval_time_t)((double)delay * SG_CRL_JITTER_PERCENT
                                   / SG_CRL_PERCENT * rnd);
    return now + (delay < SG_CRL_INTERVAL_MIN ? SG_CRL_INTERVAL_MIN : delay);
}
