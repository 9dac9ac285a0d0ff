/* sg_refresh.c: keep the best response we have, ask again on schedule. */
#include <string.h>

#include <apr_strings.h>

#include "sg_refresh.h"

/* What a step changes in a slot's info. It is applied under the slot's
 * lock to the info held at that moment (sg_table_edit), never to a copy
 * taken earlier: no field that another writer set meanwhile is lost. */
typedef struct {
    const sg_verdict_t *v;          /* a response kept, or NULL */
    sg_source_t source;
    apr_time_t due;                 /* the next attempt */
    const sg_slot_info_t *attempt;  /* the attempt's own fields, or NULL */
    apr_time_t held_next_update;    /* failed: what is still held, */
    apr_time_t now;                 /* ... and when */
    sg_state_t state;               /* out: the state written */
    int changed;                    /* out: expire changed it */
} sg_refresh_edit_t;

/* The fields an attempt sets, whatever it gave. */
static void sg_refresh_edit_attempt(sg_slot_info_t *info,
                                    const sg_slot_info_t *a)
{
    if (a != NULL) {
        info->last_attempt = a->last_attempt;
        info->last_result = a->last_result;
        info->latency = a->latency;
        info->url_index = a->url_index;
        info->failures = a->failures;
        info->force_post = a->force_post;
    }
}

static void sg_refresh_edit_keep(sg_slot_info_t *info, void *arg)
{
    sg_refresh_edit_t *ed = arg;
    const sg_verdict_t *v = ed->v;

    sg_refresh_edit_attempt(info, ed->attempt);
    info->state = ed->state = v->revoked ? SG_STATE_REVOKED : SG_STATE_GOOD;
    info->source = ed->source;
    info->revoked = v->revoked;
    info->this_update = v->this_update;
    info->next_update = v->next_update;
    info->response_next_update = v->response_next_update;
    info->produced_at = v->produced_at;
    info->next_attempt = ed->due;
}

/* The state when an attempt failed: what we still hold decides it. A
 * revoked certificate stays "revoked" while that answer is valid. */
static sg_state_t sg_refresh_failed_state(apr_time_t held_next_update,
                                          apr_time_t now, int revoked)
{
    if (held_next_update > now) {
        return revoked ? SG_STATE_REVOKED : SG_STATE_FAILING;
    }
    return (held_next_update != 0) ? SG_STATE_EXPIRED : SG_STATE_NONE;
}

static void sg_refresh_edit_failed(sg_slot_info_t *info, void *arg)
{
    sg_refresh_edit_t *ed = arg;

    sg_refresh_edit_attempt(info, ed->attempt);
    info->next_attempt = ed->due;
    info->state = ed->state = sg_refresh_failed_state(ed->held_next_update,
                                                      ed->now, info->revoked);
}

/* Put a response judged with verdict v in e's slot and plan its refresh;
 * attempt (may be NULL) is the attempt that got it. SG_R_TABLE_FULL: no
 * room for it in the shared table (or longer than it holds); e and its
 * slot still hold the old one. */
static sg_reason_t sg_refresh_keep(sg_entry_t *e, sg_table_t *t,
                                   const sg_refresh_conf_t *conf,
                                   const unsigned char *der, apr_size_t len,
                                   const sg_verdict_t *v,
                                   const sg_slot_info_t *attempt,
                                   sg_source_t source, sg_state_t *state,
                                   apr_time_t now, double rnd)
{
    sg_refresh_edit_t ed;

    memset(&ed, 0, sizeof(ed));
    ed.v = v;
    ed.source = source;
    ed.attempt = attempt;
    ed.due = sg_schedule_refresh(&conf->schedule, v->this_update,
                                 v->next_update, now, rnd);
    if (sg_table_put_edit(t, e->slot, der, len, sg_refresh_edit_keep, &ed)
        != APR_SUCCESS) {
        return SG_R_TABLE_FULL;
    }
    e->held_this_update = v->this_update;
    e->held_next_update = v->next_update;
    e->next_due = ed.due;
    *state = ed.state;
    return SG_R_OK;
}

/* How to ask e's responder, under conf, with req. */
static void sg_refresh_fetch_args(sg_fetch_args_t *args, const sg_entry_t *e,
                                  const sg_refresh_conf_t *conf,
                                  const sg_request_t *req)
{
    memset(args, 0, sizeof(*args));
    args->url = e->url;
    args->req = req;
    args->force_post = e->force_post;
    args->timeout = conf->timeout;
    args->max_len = SG_RESPONSE_MAX;
    args->family = conf->family;
    args->proxy = e->proxy;
}

/* The rules a response for e is judged by, under conf. */
static void sg_refresh_validate_args(sg_validate_args_t *vargs,
                                     const sg_entry_t *e,
                                     const sg_refresh_conf_t *conf,
                                     apr_time_t now)
{
    memset(vargs, 0, sizeof(*vargs));
    vargs->now = now;
    vargs->skew = conf->skew;
    vargs->max_age = conf->max_age;
    vargs->no_next_lifetime = conf->no_next_lifetime;
    vargs->held_this_update = e->held_this_update;
}

/* Ask e's i-th responder with req and judge its answer. */
static sg_reason_t sg_refresh_ask(sg_refresh_result_t *res, apr_pool_t *p,
                                  const sg_entry_t *e,
                                  const sg_refresh_conf_t *conf,
                                  const sg_request_t *req, int i,
                                  apr_time_t now)
{
    sg_fetch_args_t args;
    sg_validate_args_t vargs;
    apr_interval_time_t left;
    sg_reason_t r;

    memset(&res->verdict, 0, sizeof(res->verdict));
    sg_refresh_fetch_args(&args, e, conf, req);
    args.url = sg_registry_url_at(e, i);
    if (conf->deadline != 0) {
        left = apr_time_sec(conf->deadline - apr_time_now()
                            + APR_USEC_PER_SEC - 1);
        args.timeout = left < 1 ? 1 : left < args.timeout ? (int)left
                                                          : args.timeout;
    }
    r = sg_fetch_run(&res->fetch, p, &args);
    if (r == SG_R_OK) {
        sg_refresh_validate_args(&vargs, e, conf, now);
        r = sg_validate_response(&res->verdict, p, res->fetch.der,
                                 res->fetch.der_len, e->cert, &vargs);
    }
    return r;
}

/* Each responder of the certificate's (its AIA lists them in the CA's
 * order of preference) until one gives a response that may be stapled:
 * the first may be down while the second answers. The time of all of them
 * counts as the attempt's latency. */
static void sg_refresh_ask_all(sg_refresh_result_t *res, apr_pool_t *p,
                               const sg_entry_t *e,
                               const sg_refresh_conf_t *conf, apr_time_t now)
{
    int i, n = sg_registry_url_count(e);
    apr_interval_time_t latency = 0;
    sg_request_t req;

    res->reason = SG_R_BAD_URL;     /* no responder at all */
    /* one request for all of them, built now rather than held between
     * refreshes (200 bytes a certificate) */
    if (n > 0 && sg_request_build(&req, p, e->cert->certid_der,
                                  e->cert->certid_len) != APR_SUCCESS) {
        res->reason = SG_R_INTERNAL;
        n = 0;                      /* none can be asked */
    }
    for (i = 0; i < n; i++) {
        if (i > 0 && conf->deadline != 0 && apr_time_now() >= conf->deadline) {
            break;
        }
        if (i > 0) {
            res->failed = apr_psprintf(p, "%s%s%s (%s)",
                                       res->failed ? res->failed : "",
                                       res->failed ? "; " : "", res->url,
                                       sg_reason_name(res->reason));
        }
        res->url = sg_registry_url_at(e, i);
        res->url_index = i;
        res->reason = sg_refresh_ask(res, p, e, conf, &req, i, now);
        latency += res->fetch.latency;
        if (res->reason == SG_R_OK) {
            break;
        }
    }
    res->fetch.latency = latency;
}

/* After a failed attempt: back off, and keep what is held. Returns the
 * state written. */
static sg_state_t sg_refresh_failed(sg_entry_t *e, sg_table_t *t,
                                    const sg_refresh_conf_t *conf,
                                    sg_reason_t r, sg_slot_info_t *attempt,
                                    apr_time_t now, double rnd)
{
    sg_refresh_edit_t ed;

    e->failures++;
    /* An error answer to a GET may come from a CDN's cache for hours;
     * POST goes through to the responder. Stay with POST until an
     * answer is good again. */
    e->force_post = e->force_post || sg_reason_is_responder_error(r)
                    || r == SG_R_HTTP_STATUS;
    e->next_due = sg_schedule_retry(&conf->schedule, e->failures,
                                    e->held_next_update, now, rnd);
    attempt->failures = e->failures;
    attempt->force_post = e->force_post;
    memset(&ed, 0, sizeof(ed));
    ed.attempt = attempt;
    ed.due = e->next_due;
    ed.held_next_update = e->held_next_update;
    ed.now = now;
    sg_table_edit(t, e->slot, sg_refresh_edit_failed, &ed);
    return ed.state;
}

void sg_refresh_run(sg_refresh_result_t *res, apr_pool_t *p, sg_entry_t *e,
                    sg_table_t *t, const sg_refresh_conf_t *conf,
                    apr_time_t now, double rnd)
{
    sg_slot_info_t attempt;

    sg_refresh_result_begin(res, e, t);
    sg_refresh_ask_all(res, p, e, conf, now);
    memset(&attempt, 0, sizeof(attempt));
    attempt.url_index = res->url_index;
    attempt.last_attempt = now;
    attempt.last_result = res->reason;
    attempt.latency = res->fetch.latency;
    if (res->reason == SG_R_OK) {
        attempt.last_result = res->reason = sg_refresh_keep(
            e, t, conf, res->fetch.der, res->fetch.der_len, &res->verdict,
            &attempt, SG_SOURCE_FETCHED, &res->new_state, now, rnd);
    }
    sg_table_count_attempts(t, res->reason, 1);
    if (res->reason == SG_R_OK) {
        e->failures = 0;
        e->force_post = 0;
    }
    else {
        res->new_state = sg_refresh_failed(e, t, conf, res->reason, &attempt,
                                           now, rnd);
    }
    /* producedAt is not a validity rule, but far ahead of our clock it
     * tells that one of the two clocks is wrong. */
    if (res->reason == SG_R_OK
        && res->verdict.produced_at > now + conf->skew) {
        res->produced_ahead = res->verdict.produced_at - now;
    }
}

void sg_refresh_result_begin(sg_refresh_result_t *res, const sg_entry_t *e,
                             sg_table_t *t)
{
    sg_slot_info_t info;

    memset(res, 0, sizeof(*res));   /* reason SG_R_OK */
    sg_table_get_info(t, e->slot, &info);
    res->old_state = res->new_state = info.state;
}

void sg_refresh_result_end(sg_refresh_result_t *res, const sg_entry_t *e,
                           sg_table_t *t)
{
    sg_slot_info_t info;

    sg_table_get_info(t, e->slot, &info);
    res->new_state = info.state;
}

sg_reason_t sg_refresh_check(sg_verdict_t *v, apr_pool_t *p,
                             const sg_entry_t *e, const sg_refresh_conf_t *conf,
                             const unsigned char *der, apr_size_t len,
                             apr_time_t now)
{
    sg_validate_args_t vargs;

    sg_refresh_validate_args(&vargs, e, conf, now);
    return sg_validate_response(v, p, der, len, e->cert, &vargs);
}

sg_reason_t sg_refresh_take(sg_entry_t *e, sg_table_t *t,
                            const sg_refresh_conf_t *conf,
                            const unsigned char *der, apr_size_t len,
                            const sg_verdict_t *v, sg_source_t source,
                            const sg_slot_info_t *info, apr_time_t now,
                            double rnd)
{
    sg_slot_info_t attempt;
    sg_state_t state;
    sg_reason_t r;

    if (info != NULL) {
        /* the last attempt survives the restart, and its retry plan */
        attempt = *info;
        attempt.failures = 0;
        attempt.force_post = 0;
        attempt.url_index = 0;      /* of the old generation's list */
    }
    r = sg_refresh_keep(e, t, conf, der, len, v, info ? &attempt : NULL,
                        source, &state, now, rnd);
    if (r == SG_R_OK && info != NULL && info->next_attempt > now
        && info->next_attempt < e->next_due) {
        /* keep an earlier retry that was already planned */
        e->next_due = info->next_attempt;
    }
    return r;
}

static void sg_refresh_edit_expire(sg_slot_info_t *info, void *arg)
{
    sg_refresh_edit_t *ed = arg;

    if (info->state == SG_STATE_GOOD || info->state == SG_STATE_REVOKED
        || info->state == SG_STATE_FAILING) {
        info->state = SG_STATE_EXPIRED;
        ed->changed = 1;
    }
}

int sg_refresh_expire(sg_entry_t *e, sg_table_t *t, apr_time_t now)
{
    sg_refresh_edit_t ed;

    memset(&ed, 0, sizeof(ed));
    if (e->held_next_update != 0 && e->held_next_update <= now) {
        sg_table_edit(t, e->slot, sg_refresh_edit_expire, &ed);
    }
    return ed.changed;
}

static void sg_refresh_edit_no_url(sg_slot_info_t *info, void *arg)
{
    (void)arg;
    info->state = SG_STATE_NO_URL;
}

void sg_refresh_mark_no_url(const sg_entry_t *e, sg_table_t *t)
{
    sg_table_edit(t, e->slot, sg_refresh_edit_no_url, NULL);
}

void sg_refresh_resume(sg_entry_t *e, sg_table_t *t)
{
    sg_slot_info_t info;

    sg_table_get_info(t, e->slot, &info);
    if (info.next_update != 0) {
        e->held_this_update = info.this_update;
        e->held_next_update = info.next_update;
    }
    e->next_due = info.next_attempt;
    e->failures = info.failures;
    e->force_post = info.force_post;
}

void sg_refresh_conf_init(sg_refresh_conf_t *c, int timeout,
                          apr_interval_time_t skew,
                          apr_interval_time_t max_age,
                          apr_interval_time_t no_next_lifetime,
                          const sg_schedule_conf_t *schedule, int family)
{
    memset(c, 0, sizeof(*c));
    c->timeout = timeout;
    c->skew = skew;
    c->max_age = max_age;
    c->no_next_lifetime = no_next_lifetime;
    if (schedule != NULL) {
        c->schedule = *schedule;
    }
    c->family = family;
}

void sg_refresh_continue(sg_entry_t *e, apr_time_t next_due, int failures)
{
    e->next_due = next_due;
    e->failures = failures;
}
