/* sgh_log.c: what an operator reads in the error log about a certificate's
 * life: one line per change of its state or failure reason, never one per
 * attempt or per handshake (those go to debug). */
#include <apr_strings.h>

#include <httpd.h>
#include <http_log.h>

#include "sg_text.h"
#include "sg_url.h"
#include "sgh_crl.h"
#include "sgh_entry.h"
#include "sgh_log.h"
#include "sgh_msg.h"

APLOG_USE_MODULE(staple_guard);

static const char *sgh_log_time(apr_pool_t *p, apr_time_t t)
{
    char *buf = apr_palloc(p, APR_RFC822_DATE_LEN);

    if (t == 0 || apr_rfc822_date(buf, t) != APR_SUCCESS) {
        return "never";
    }
    return buf;
}

/* The certificate's refused OCSP URLs (SG0012), escaped, in one line:
 * each is said once per start, not at every attempt. */
static void sgh_log_refused(server_rec *s, const sg_entry_t *e,
                            const apr_array_header_t *refused)
{
    apr_pool_t *p;
    const char *list = "";
    int i, none = e->url == NULL;

    apr_pool_create(&p, s->process->pool);
    for (i = 0; i < refused->nelts; i++) {
        list = apr_pstrcat(p, list, i ? ", " : "", "\"",
                           sg_text_log(p, APR_ARRAY_IDX(refused, i,
                                                        const char *)),
                           "\"", NULL);
    }
    sgh_log(SGH_M_URL_REFUSED, none && e->cert->must_staple, s, 0,
            "%s: OCSP URL refused, never asked: %s %s; %s", e->cert->subject,
            list, sg_url_check_chars(APR_ARRAY_IDX(refused, 0, const char *)),
            none ? "no usable responder is left, so there is nothing to "
                   "staple (set StapleGuardResponderURL)"
                 : apr_pstrcat(p, "asking ", e->url, " instead", NULL));
    apr_pool_destroy(p);
}

void sgh_log_primed(server_rec *s, const sg_entry_t *e)
{
    const apr_array_header_t *refused = sgh_entry(e)->refused_urls;
    int must = e->cert->must_staple;

    if (refused != NULL) {
        sgh_log_refused(s, e, refused);
    }
    if (e->url == NULL && refused == NULL) {
        sg_why_t why = sgh_crl_why(e);

        sgh_log(SGH_M_NO_URL, must, s, 0, "%s: no staple: %s: %s%s%s",
                e->cert->subject, sg_why_name(why), sg_why_text(why),
                why == SG_WHY_CRL_ONLY && !sgh_crl_wanted(e)
                ? " (StapleGuardCRLWatch is Off here)" : "", must
                ? "; it is Must-Staple, so clients that honour that will "
                  "refuse it: set StapleGuardResponderURL"
                : "");
        return;
    }
    if (e->url != NULL) {
        sgh_log(SGH_M_PRIMED, 0, s, 0, "%s: stapling with responder %s%s%s",
                e->cert->subject, e->url,
                sg_registry_url_count(e) > 1
                ? " (then the certificate's other OCSP URLs in turn)" : "",
                must ? " (Must-Staple)" : "");
    }
}

/* The level of an outcome line (SG01nn) that changed the state or the
 * reason: the worse the state, the louder. */
static int sgh_log_level(const sg_entry_t *e, sg_state_t state)
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

static const char *sgh_log_holding(apr_pool_t *p, const sg_entry_t *e,
                                   sg_state_t state)
{
    if (state == SG_STATE_FAILING) {
        return apr_pstrcat(p, "still stapling the response valid until ",
                           sgh_log_time(p, e->held_next_update), NULL);
    }
    return e->cert->must_staple
           ? "no staple; the certificate is Must-Staple, so clients that "
             "honour that refuse the site"
           : "handshakes go without a staple";
}

static void sgh_log_skew(server_rec *s, const sg_entry_t *e,
                         const sg_refresh_result_t *res)
{
    sgh_entry_t *he = sgh_entry(e);

    if (res->produced_ahead > 0 && !he->skew_warned) {
        sgh_log(SGH_M_SKEW, 0, s, 0, "%s: clock skew: the responder's "
                "producedAt is %" APR_TIME_T_FMT " s ahead of the local "
                "clock; check NTP here and tell the CA if this clock is "
                "right", e->cert->subject, apr_time_sec(res->produced_ahead));
    }
    if (res->reason == SG_R_OK) {
        he->skew_warned = res->produced_ahead > 0;
    }
}

/* Which request the last responder answered: "GET", "POST", or "POST
 * after GET got <reason>" (sg_fetch_run asks again at once). */
static const char *sgh_log_method(apr_pool_t *p, const sg_fetch_result_t *f)
{
    if (!f->used_post) {
        return "GET";
    }
    if (f->get_refused == SG_R_OK) {
        return "POST";
    }
    return apr_pstrcat(p, "POST after GET got ", sg_reason_name(f->get_refused),
                       f->get_detail ? " (" : "",
                       f->get_detail ? sg_text_log(p, f->get_detail) : "",
                       f->get_detail ? ")" : "", NULL);
}

static void sgh_log_success(server_rec *s, apr_pool_t *p, const sg_entry_t *e,
                            const sg_refresh_result_t *res, const char *when,
                            int changed)
{
    sgh_log(res->verdict.revoked ? SGH_M_REVOKED : SGH_M_GOOD, changed, s, 0,
            "%s: %s response from %s (%s; %s%s%s), valid until %s; next "
            "refresh %s", e->cert->subject,
            res->verdict.revoked ? "REVOKED" : "good", res->url, when,
            sgh_log_method(p, &res->fetch),
            res->failed ? "; failed first: " : "",
            res->failed ? res->failed : "",
            sgh_log_time(p, res->verdict.next_update),
            sgh_log_time(p, e->next_due));
}

void sgh_log_refresh(server_rec *s, apr_pool_t *p, const sg_entry_t *e,
                     const sg_refresh_result_t *res, const char *when)
{
    sgh_entry_t *he = sgh_entry(e);
    int changed = res->reason != he->last_logged
                  || res->new_state != res->old_state;
    /* the responder's or the library's words: data, escaped */
    const char *detail = sg_text_log(p, res->fetch.detail
                                        ? res->fetch.detail
                                        : res->verdict.detail);
    int asked = res->url != NULL && res->reason != SG_R_BAD_URL;

    he->last_logged = res->reason;
    sgh_log_skew(s, e, res);
    if (res->reason == SG_R_OK) {
        sgh_log_success(s, p, e, res, when, changed);
        return;
    }
    /* The outcome's own id, from the core's table (sg_reason.c). */
    ap_log_error(APLOG_MARK, changed ? sgh_log_level(e, res->new_state)
                                     : APLOG_DEBUG, 0, s,
                 "%s: %s: %s: %s%s%s%s%s; %s; attempt %d, next %s%s%s%s",
                 sg_reason_id(res->reason), e->cert->subject,
                 res->url, sg_reason_text(res->reason), detail ? " - " : "",
                 detail ? detail : "", res->failed ? "; failed before: " : "",
                 res->failed ? res->failed : "",
                 sgh_log_holding(p, e, res->new_state), e->failures,
                 sgh_log_time(p, e->next_due),
                 e->force_post ? " with POST" : "",
                 asked ? "; method " : "", asked ? sgh_log_method(p, &res->fetch)
                                                 : "");
}

void sgh_log_adopted(server_rec *s, apr_pool_t *p, const sg_entry_t *e,
                     sg_source_t source, sg_reason_t r, const sg_verdict_t *v)
{
    const char *detail = sg_text_log(p, v->detail);

    if (r == SG_R_OK) {
        sgh_log(SGH_M_KEPT, 0, s, 0, "%s: response from %s kept, valid "
                "until %s", e->cert->subject, sg_source_name(source),
                sgh_log_time(p, v->next_update));
        return;
    }
    sgh_log(SGH_M_REFUSED, 0, s, 0, "%s: response from %s refused: %s (%s)"
            "%s%s", e->cert->subject, sg_source_name(source),
            sg_reason_text(r), sg_reason_id(r), detail ? " - " : "",
            detail ? detail : "");
}

void sgh_log_expiring(server_rec *s, apr_pool_t *p, const sg_entry_t *e,
                      apr_time_t now)
{
    int must = e->cert->must_staple;

    sgh_log(SGH_M_EXPIRING, must, s, 0, "%s: the held response expires in %"
            APR_TIME_T_FMT " s (%s) and the responder keeps failing (%s); "
            "next try %s%s", e->cert->subject,
            apr_time_sec(e->held_next_update - now),
            sgh_log_time(p, e->held_next_update),
            sg_reason_name(sgh_entry(e)->last_logged),
            sgh_log_time(p, e->next_due), must
            ? "; the certificate is Must-Staple: without a staple clients "
              "that honour that refuse the site" : "");
}

void sgh_log_expired(server_rec *s, apr_pool_t *p, const sg_entry_t *e)
{
    sgh_log(SGH_M_EXPIRED, e->cert->must_staple, s, 0, "%s: the held response "
            "passed its nextUpdate or StapleGuardMaxAge, whichever came "
            "first (%s), and no newer one could be fetched; %s",
            e->cert->subject, sgh_log_time(p, e->held_next_update),
            sgh_log_holding(p, e, SG_STATE_EXPIRED));
}
