/* mod_sg_log.c: what an operator reads in the error log. */
#include <apr_strings.h>

#include <httpd.h>
#include <http_log.h>

#include "mod_sg_log.h"

APLOG_USE_MODULE(staple_guard);

static const char *sg_log_time(apr_pool_t *p, apr_time_t t)
{
    char *buf = apr_palloc(p, APR_RFC822_DATE_LEN);

    if (t == 0 || apr_rfc822_date(buf, t) != APR_SUCCESS) {
        return "never";
    }
    return buf;
}

void sg_log_primed(server_rec *s, const sg_entry_t *e)
{
    if (e->url == NULL) {
        ap_log_error(APLOG_MARK, e->cert->must_staple ? APLOG_ERR : APLOG_INFO,
                     0, s, "SG0010: %s: the certificate names no OCSP "
                     "responder, so there is nothing to staple%s",
                     e->cert->subject, e->cert->must_staple
                     ? "; it is Must-Staple, so clients that honour that "
                       "will refuse it: set StapleGuardResponderURL"
                     : " (normal since 2025)");
        return;
    }
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, "SG0011: %s: stapling with "
                 "responder %s%s", e->cert->subject, e->url,
                 e->cert->must_staple ? " (Must-Staple)" : "");
}

static int sg_log_level(const sg_entry_t *e, sg_state_t state)
{
    if (state == SG_STATE_REVOKED) {
        return APLOG_ERR;
    }
    if (state == SG_STATE_GOOD) {
        return APLOG_INFO;
    }
    if (state == SG_STATE_FAILING) {
        return APLOG_WARNING;
    }
    return e->cert->must_staple ? APLOG_CRIT : APLOG_ERR;
}

static const char *sg_log_holding(apr_pool_t *p, const sg_entry_t *e,
                                  sg_state_t state)
{
    if (state == SG_STATE_FAILING) {
        return apr_pstrcat(p, "still stapling the response valid until ",
                           sg_log_time(p, e->held_next_update), NULL);
    }
    return e->cert->must_staple
           ? "no staple; the certificate is Must-Staple, so clients that "
             "honour that refuse the site"
           : "handshakes go without a staple";
}

static void sg_log_skew(server_rec *s, sg_entry_t *e,
                        const sg_refresh_result_t *res)
{
    if (res->produced_ahead > 0 && !e->skew_warned) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "SG0026: %s: clock "
                     "skew: the responder's producedAt is %" APR_TIME_T_FMT
                     " s ahead of the local clock; check NTP here and tell "
                     "the CA if this clock is right", e->cert->subject,
                     apr_time_sec(res->produced_ahead));
    }
    if (res->reason == SG_R_OK) {
        e->skew_warned = res->produced_ahead > 0;
    }
}

void sg_log_refresh(server_rec *s, apr_pool_t *p, sg_entry_t *e,
                    const sg_refresh_result_t *res, const char *when)
{
    int changed = res->reason != e->last_logged
                  || res->new_state != res->old_state;
    int level = changed ? sg_log_level(e, res->new_state) : APLOG_DEBUG;

    e->last_logged = res->reason;
    sg_log_skew(s, e, res);
    if (res->reason == SG_R_OK) {
        ap_log_error(APLOG_MARK, level, 0, s, "%s: %s: %s response from %s "
                     "(%s), valid until %s; next refresh %s",
                     res->verdict.revoked ? "SG0021" : "SG0020",
                     e->cert->subject,
                     res->verdict.revoked ? "REVOKED" : "good", e->url, when,
                     sg_log_time(p, res->verdict.next_update),
                     sg_log_time(p, e->next_due));
        return;
    }
    ap_log_error(APLOG_MARK, level, 0, s, "%s: %s: %s: %s%s%s; %s; "
                 "attempt %d, next %s%s", sg_reason_id(res->reason),
                 e->cert->subject, e->url, sg_reason_text(res->reason),
                 res->fetch.detail || res->verdict.detail ? " - " : "",
                 res->fetch.detail ? res->fetch.detail
                 : (res->verdict.detail ? res->verdict.detail : ""),
                 sg_log_holding(p, e, res->new_state), e->failures,
                 sg_log_time(p, e->next_due),
                 e->force_post ? " with POST" : "");
}

void sg_log_adopted(server_rec *s, apr_pool_t *p, const sg_entry_t *e, sg_source_t source,
                    sg_reason_t r, const sg_verdict_t *v)
{
    if (r == SG_R_OK) {
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, "SG0023: %s: response "
                     "from %s kept, valid until %s", e->cert->subject,
                     sg_source_name(source),
                     sg_log_time(p, v->next_update));
        return;
    }
    ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "SG0024: %s: response "
                 "from %s refused: %s (%s)%s%s", e->cert->subject,
                 sg_source_name(source), sg_reason_text(r), sg_reason_id(r),
                 v->detail ? " - " : "", v->detail ? v->detail : "");
}

void sg_log_expiring(server_rec *s, apr_pool_t *p, const sg_entry_t *e,
                     apr_time_t now)
{
    ap_log_error(APLOG_MARK, e->cert->must_staple ? APLOG_ERR : APLOG_WARNING,
                 0, s, "SG0025: %s: the held response expires in %"
                 APR_TIME_T_FMT " s (%s) and the responder keeps failing "
                 "(%s); next try %s%s", e->cert->subject,
                 apr_time_sec(e->held_next_update - now),
                 sg_log_time(p, e->held_next_update),
                 sg_reason_name(e->last_logged), sg_log_time(p, e->next_due),
                 e->cert->must_staple
                 ? "; the certificate is Must-Staple: without a staple "
                   "clients that honour that refuse the site" : "");
}

void sg_log_expired(server_rec *s, apr_pool_t *p, const sg_entry_t *e)
{
    ap_log_error(APLOG_MARK, e->cert->must_staple ? APLOG_CRIT : APLOG_ERR, 0,
                 s, "SG0022: %s: the held response passed its nextUpdate (%s) "
                 "and no newer one could be fetched; %s", e->cert->subject,
                 sg_log_time(p, e->held_next_update),
                 sg_log_holding(p, e, SG_STATE_EXPIRED));
}
