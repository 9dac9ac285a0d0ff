/* sgh_crl.c: watch the revocation of certificates that name no OCSP
 * responder through their CRL. Nothing here touches a handshake: nothing
 * is stapled for these certificates; the watch only tells (log, page,
 * metrics, events). */
#include <string.h>

#include <apr_strings.h>
#include <unixd.h>

#include <httpd.h>
#include <http_log.h>
#include <http_protocol.h>

#include "sg_crl.h"
#include "sg_crl_fetch.h"
#include "sg_crl_state.h"
#include "sg_schedule.h"
#include "sg_store.h"
#include "sg_text.h"
#include "sgh_config.h"
#include "sgh_crl.h"
#include "sgh_crl_conf.h"
#include "sgh_entry.h"
#include "sgh_event.h"
#include "sgh_msg.h"

APLOG_USE_MODULE(staple_guard);

/* A store record is a few hundred bytes; anything larger is not ours. */
#define SGH_CRL_RECORD_MAX 4096

/* One CRL URL and the certificates watched through it. */
typedef struct {
    const char *url;
    const sg_proxy_t *proxy;        /* the first certificate's */
    apr_array_header_t *entries;    /* sg_entry_t * */
    apr_pool_t *pool;               /* the validators, cleared with them */
    const char *etag;               /* of the CRL judged last */
    const char *last_modified;
    int judged;                     /* a CRL from here was judged: a 304
                                     * means that verdict still holds */
    apr_time_t this_update;
    apr_time_t next_update;
    apr_time_t next_due;
    int failures;
} sgh_crl_url_t;

/* The watch of one generation. */
typedef struct {
    sgh_gen_t *g;
    apr_hash_t *on;                 /* sg_entry_t * whose hosts say On */
    apr_hash_t *watch;              /* sg_entry_t * -> sgh_crl_url_t * */
    apr_hash_t *by_url;
    apr_array_header_t *urls;       /* sgh_crl_url_t *, in order */
} sgh_crl_t;

static sgh_crl_t *sgh_crl_cur;

static apr_status_t sgh_crl_gone(void *data)
{
    if (sgh_crl_cur == data) {
        sgh_crl_cur = NULL;
    }
    return APR_SUCCESS;
}

static sgh_crl_t *sgh_crl_get(sgh_gen_t *g)
{
    sgh_crl_t *c = sgh_crl_cur;

    if (c == NULL || c->g != g) {
        c = apr_pcalloc(g->pool, sizeof(*c));
        c->g = g;
        c->on = apr_hash_make(g->pool);
        c->watch = apr_hash_make(g->pool);
        c->by_url = apr_hash_make(g->pool);
        c->urls = apr_array_make(g->pool, 1, sizeof(sgh_crl_url_t *));
        apr_pool_cleanup_register(g->pool, c, sgh_crl_gone,
                                  apr_pool_cleanup_null);
        sgh_crl_cur = c;
    }
    return c;
}

void sgh_crl_prime(sgh_gen_t *g, server_rec *s, sg_entry_t *e)
{
    sgh_crl_t *c = sgh_crl_get(g);
    sg_entry_t **key;

    if (sgh_crl_conf_watch(s) && apr_hash_get(c->on, &e, sizeof(e)) == NULL) {
        key = apr_palloc(g->pool, sizeof(*key));
        *key = e;
        apr_hash_set(c->on, key, sizeof(*key), e);
    }
}

int sgh_crl_wanted(const sg_entry_t *e)
{
    return sgh_crl_cur != NULL
           && apr_hash_get(sgh_crl_cur->on, &e, sizeof(e)) != NULL;
}

sg_why_t sgh_crl_why(const sg_entry_t *e)
{
    return e->cert ? sg_why_classify(e->cert, e->url != NULL,
                                     sgh_crl_conf_short_lived())
                   : SG_WHY_NONE;
}

static sgh_crl_url_t *sgh_crl_url_of(const sg_entry_t *e)
{
    return sgh_crl_cur ? apr_hash_get(sgh_crl_cur->watch, &e, sizeof(e))
                       : NULL;
}

const char *sgh_crl_watched(const sg_entry_t *e)
{
    const sgh_crl_url_t *u = sgh_crl_url_of(e);

    return u ? u->url : NULL;
}

static const char *sgh_crl_time(apr_pool_t *p, apr_time_t t)
{
    const char *s = t ? sg_text_time(p, t) : NULL;

    return s ? s : "never";
}

static const char *sgh_crl_esc(apr_pool_t *p, const char *s)
{
    return s ? ap_escape_logitem(p, s) : "";
}

/* ---- the store: the verdict and the validators ---- */

static const char *sgh_crl_store_name(apr_pool_t *p, const sg_entry_t *e)
{
    return apr_pstrcat(p, e->cert->hash, SG_STORE_CRL_SUFFIX, NULL);
}

static void sgh_crl_save(sgh_gen_t *g, apr_pool_t *p, const sg_entry_t *e,
                         const sgh_crl_url_t *u)
{
    sg_slot_info_t info;
    sg_store_crl_t v;
    unsigned char *buf;
    apr_size_t len;

    if (g->store_dir == NULL) {
        return;
    }
    sg_table_get_info(g->table, e->slot, &info);
    memset(&v, 0, sizeof(v));
    v.state = (apr_uint32_t)info.state;
    v.last_result = (apr_uint32_t)info.last_result;
    v.failures = (apr_uint32_t)info.failures;
    v.reason_code = info.revocation_reason;
    v.this_update = info.this_update;
    v.next_update = info.next_update;
    v.revoked_at = info.revoked_at;
    v.last_attempt = info.last_attempt;
    v.next_attempt = info.next_attempt;
    v.url = u->url;
    v.etag = u->judged ? u->etag : NULL;
    v.last_modified = u->judged ? u->last_modified : NULL;
    /* a failed write is said by the OCSP side's SG0053 when it matters
     * there; here the verdict stays in memory and is made again */
    if (sg_store_crl_encode(p, e->cert->hash_bin, &v, &buf, &len)
        == APR_SUCCESS) {
        sg_store_write(p, g->store_dir, sgh_crl_store_name(p, e), buf, len,
                       ap_unixd_config.user_id, ap_unixd_config.group_id);
    }
}

/* The outcome a stored record stands for. */
static void sgh_crl_outcome_of(sg_crl_outcome_t *o, const sg_store_crl_t *v)
{
    memset(o, 0, sizeof(*o));
    o->restored = 1;
    o->reason = v->state == SG_STATE_CRL_FAILING
                ? (sg_reason_t)v->last_result : SG_R_OK;
    o->revoked = v->state == SG_STATE_REVOKED;
    o->revoked_at = v->revoked_at;
    o->revocation_reason = v->reason_code;
    o->this_update = v->this_update;
    o->next_update = v->next_update;
    o->attempt = v->last_attempt;
    o->failures = (int)v->failures;
    o->next_attempt = v->next_attempt;
}

/* Take e's stored verdict, if it is for this URL: the slot shows it, the
 * URL's next download and validators follow from it. */
static void sgh_crl_load(sgh_gen_t *g, server_rec *s, apr_pool_t *ptemp,
                         sg_entry_t *e, sgh_crl_url_t *u)
{
    const char *name = sgh_crl_store_name(ptemp, e);
    unsigned char *buf = NULL;
    apr_size_t len = 0;
    sg_store_crl_t v;
    sg_crl_outcome_t o;
    sg_store_format_t f;

    if (g->store_dir == NULL
        || sg_store_read(ptemp, g->store_dir, name, SGH_CRL_RECORD_MAX, &buf,
                         &len) != APR_SUCCESS) {
        return;
    }
    f = sg_store_crl_decode(buf, len, e->cert->hash_bin, &v, ptemp);
    if (f != SG_STORE_OK || v.state >= SG_STATE_COUNT
        || v.last_result >= SG_R_COUNT) {
        sgh_log(SGH_M_CRL_STORE_REFUSED, 0, s, 0, "%s: the stored CRL "
                "verdict %s/%s is %s: set aside; the CRL is downloaded "
                "again", sgh_crl_esc(ptemp, e->cert->subject), g->store_dir,
                name, f != SG_STORE_OK ? sg_store_format_text(f)
                                       : "out of range");
        sg_store_set_aside(ptemp, g->store_dir, name);
        return;
    }
    if (strcmp(v.url, u->url) != 0) {
        return;     /* the certificate now names another CRL */
    }
    sgh_crl_outcome_of(&o, &v);
    sg_crl_record(g->table, e->slot, &o);
    if (u->next_due == 0 || v.next_attempt < u->next_due) {
        u->next_due = v.next_attempt;
        u->failures = (int)v.failures;
    }
    if (v.this_update != 0 && (v.etag || v.last_modified)) {
        u->judged = 1;
        u->etag = v.etag ? apr_pstrdup(u->pool, v.etag) : NULL;
        u->last_modified = v.last_modified
                           ? apr_pstrdup(u->pool, v.last_modified) : NULL;
        u->this_update = v.this_update;
        u->next_update = v.next_update;
    }
    sgh_log(SGH_M_CRL_KEPT, 0, s, 0, "%s: CRL verdict from the store: %s "
            "(CRL %s, thisUpdate %s); next download %s",
            sgh_crl_esc(ptemp, e->cert->subject), sg_state_name(v.state),
            sgh_crl_esc(ptemp, u->url), sgh_crl_time(ptemp, v.this_update),
            sgh_crl_time(ptemp, u->next_due));
}

/* ---- which certificates, through which URL ---- */

static sgh_crl_url_t *sgh_crl_url_add(sgh_crl_t *c, const sg_entry_t *e,
                                      const char *url)
{
    sgh_crl_url_t *u = apr_hash_get(c->by_url, url, APR_HASH_KEY_STRING);

    if (u == NULL) {
        u = apr_pcalloc(c->g->pool, sizeof(*u));
        u->url = url;
        u->proxy = e->proxy;
        u->entries = apr_array_make(c->g->pool, 1, sizeof(sg_entry_t *));
        apr_pool_create(&u->pool, c->g->pool);
        apr_hash_set(c->by_url, url, APR_HASH_KEY_STRING, u);
        APR_ARRAY_PUSH(c->urls, sgh_crl_url_t *) = u;
    }
    return u;
}

void sgh_crl_open(sgh_gen_t *g, server_rec *s, apr_pool_t *ptemp)
{
    sgh_crl_t *c = sgh_crl_get(g);
    apr_time_t now = apr_time_now();
    int i;

    for (i = 0; i < sg_registry_count(g->reg); i++) {
        sg_entry_t *e = sg_registry_at(g->reg, i);
        sg_entry_t **key;
        sgh_crl_url_t *u;

        if (sgh_crl_why(e) != SG_WHY_CRL_ONLY
            || apr_hash_get(c->on, &e, sizeof(e)) == NULL) {
            continue;
        }
        u = sgh_crl_url_add(c, e, APR_ARRAY_IDX(e->cert->crl_urls, 0,
                                                const char *));
        APR_ARRAY_PUSH(u->entries, sg_entry_t *) = e;
        key = apr_palloc(g->pool, sizeof(*key));
        *key = e;
        apr_hash_set(c->watch, key, sizeof(*key), u);
        sgh_crl_load(g, s, ptemp, e, u);
    }
    for (i = 0; i < c->urls->nelts; i++) {
        sgh_crl_url_t *u = APR_ARRAY_IDX(c->urls, i, sgh_crl_url_t *);

        u->next_due = u->next_due == 0 || u->next_due < now ? now
                                                             : u->next_due;
    }
}

/* ---- one download, judged for each certificate ---- */

static void sgh_crl_log(server_rec *s, apr_pool_t *p, const sg_entry_t *e,
                        const sgh_crl_url_t *u, const sg_crl_outcome_t *o,
                        sg_state_t old, sg_state_t now_state,
                        const char *detail)
{
    sgh_entry_t *he = sgh_entry(e);
    int changed = he->last_logged != o->reason || now_state != old;
    const char *subject = sgh_crl_esc(p, e->cert->subject);

    he->last_logged = o->reason;
    if (o->reason == SG_R_OK && o->revoked) {
        sgh_log(SGH_M_CRL_REVOKED, changed, s, 0, "%s: REVOKED: listed on "
                "its CRL %s, revoked at %s, reason %s (CRL thisUpdate %s, "
                "nextUpdate %s); clients that check refuse it: replace the "
                "certificate", subject, sgh_crl_esc(p, u->url),
                sgh_crl_time(p, o->revoked_at),
                sg_crl_reason_name(o->revocation_reason),
                sgh_crl_time(p, o->this_update),
                sgh_crl_time(p, o->next_update));
    }
    else if (o->reason == SG_R_OK) {
        sgh_log(SGH_M_CRL_GOOD, changed, s, 0, "%s: not revoked: absent from "
                "its CRL %s (thisUpdate %s, nextUpdate %s); next download %s",
                subject, sgh_crl_esc(p, u->url),
                sgh_crl_time(p, o->this_update),
                sgh_crl_time(p, o->next_update),
                sgh_crl_time(p, o->next_attempt));
    }
    else {
        /* The outcome's own id, from the core's table (sg_reason.c). */
        ap_log_error(APLOG_MARK, changed ? APLOG_WARNING : APLOG_DEBUG, 0, s,
                     "%s: %s: CRL %s: %s%s%s; state %s; attempt %d, next %s",
                     sg_reason_id(o->reason), subject,
                     sgh_crl_esc(p, u->url), sg_reason_text(o->reason),
                     detail ? " - " : "", sgh_crl_esc(p, detail),
                     sg_state_name(now_state), o->failures,
                     sgh_crl_time(p, o->next_attempt));
    }
}

/* Record o for e: the slot, the log, the event, the store. */
static void sgh_crl_apply(sgh_gen_t *g, apr_pool_t *p, sg_entry_t *e,
                          const sgh_crl_url_t *u, const sg_crl_outcome_t *o,
                          const char *detail)
{
    sg_state_t old = sg_crl_record(g->table, e->slot, o);
    sg_slot_info_t info;

    sg_table_get_info(g->table, e->slot, &info);
    sgh_crl_log(g->s, p, e, u, o, old, info.state, detail);
    if (info.state == SG_STATE_REVOKED && old != SG_STATE_REVOKED) {
        sgh_event_fire(p, e, SGH_EV_REVOKED, SG_R_OK);
    }
    sgh_crl_save(g, p, e, u);
}

/* The verdict already held, for a 304. */
static void sgh_crl_unchanged(sg_crl_outcome_t *o, const sgh_gen_t *g,
                              const sg_entry_t *e)
{
    sg_slot_info_t info;

    sg_table_get_info(g->table, e->slot, &info);
    o->revoked = info.state == SG_STATE_REVOKED && info.revoked;
    o->revoked_at = info.revoked_at;
    o->revocation_reason = info.revocation_reason;
    o->this_update = info.this_update;
    o->next_update = info.next_update;
}

/* Keep the validators of a CRL that was judged, forget them otherwise:
 * a 304 must never stand for a CRL that was refused. */
static void sgh_crl_validators(sgh_crl_url_t *u,
                               const sg_crl_fetch_result_t *res, int all_ok,
                               const sg_crl_outcome_t *o)
{
    if (res->not_modified) {
        return;
    }
    apr_pool_clear(u->pool);
    u->judged = all_ok;
    u->etag = all_ok && res->etag ? apr_pstrdup(u->pool, res->etag) : NULL;
    u->last_modified = all_ok && res->last_modified
                       ? apr_pstrdup(u->pool, res->last_modified) : NULL;
    u->this_update = all_ok ? o->this_update : 0;
    u->next_update = all_ok ? o->next_update : 0;
}

/* When next, from how it went. */
static void sgh_crl_reschedule(sgh_gen_t *g, sgh_crl_url_t *u, int all_ok,
                               apr_time_t now)
{
    if (all_ok) {
        u->failures = 0;
        u->next_due = sg_crl_schedule(u->next_update, now, sgh_random());
    }
    else {
        u->failures++;
        u->next_due = sg_schedule_retry(&sgh_config_global()->schedule,
                                        u->failures, u->judged
                                        ? u->next_update : 0, now,
                                        sgh_random());
    }
    (void)g;
}

/* Judge what was downloaded for each certificate watched through u. */
static int sgh_crl_judge_all(sgh_gen_t *g, apr_pool_t *p, sgh_crl_url_t *u,
                             const sg_crl_fetch_result_t *res,
                             sg_crl_outcome_t *outs, const char **details)
{
    sg_crl_args_t args;
    sg_crl_verdict_t v;
    int i, all_ok = 1;

    args.now = apr_time_now();
    args.skew = sgh_config_global()->skew;
    args.grace = SG_CRL_GRACE;
    args.url = u->url;
    for (i = 0; i < u->entries->nelts; i++) {
        sg_entry_t *e = APR_ARRAY_IDX(u->entries, i, sg_entry_t *);
        sg_crl_outcome_t *o = &outs[i];

        if (res->reason != SG_R_OK) {
            o->reason = res->reason;
            details[i] = res->detail;
        }
        else if (res->not_modified) {
            o->reason = u->judged ? SG_R_OK : SG_R_IO;
            details[i] = u->judged ? NULL : "HTTP 304 to a request that "
                                            "asked for a whole CRL";
            sgh_crl_unchanged(o, g, e);
        }
        else {
            o->reason = sg_crl_judge(&v, p, res->body, res->len, e->cert,
                                     &args);
            o->revoked = v.revoked;
            o->revoked_at = v.revoked_at;
            o->revocation_reason = v.reason;
            o->this_update = v.this_update;
            o->next_update = v.next_update;
            details[i] = v.detail;
            /* never judge by a CRL older than the one judged before */
            if (o->reason == SG_R_OK && u->judged
                && o->this_update < u->this_update) {
                o->reason = SG_R_CRL_OLDER;
                details[i] = apr_pstrcat(p, "thisUpdate ",
                                         sgh_crl_time(p, o->this_update),
                                         ", judged before ",
                                         sgh_crl_time(p, u->this_update),
                                         NULL);
                sgh_crl_unchanged(o, g, e);
            }
        }
        all_ok = all_ok && o->reason == SG_R_OK;
    }
    return all_ok;
}

static void sgh_crl_download(sgh_gen_t *g, apr_pool_t *p, sgh_crl_url_t *u)
{
    sg_crl_fetch_args_t args;
    sg_crl_fetch_result_t res;
    sg_crl_outcome_t *outs = apr_pcalloc(p, sizeof(*outs) * u->entries->nelts);
    const char **details = apr_pcalloc(p, sizeof(*details)
                                          * u->entries->nelts);
    apr_time_t start = apr_time_now();
    int i, all_ok;

    memset(&args, 0, sizeof(args));
    args.url = u->url;
    args.proxy = u->proxy;
    args.family = sgh_config_global()->family;
    args.timeout = sgh_config_global()->timeout;
    args.max_len = sgh_crl_conf_max_size();
    args.etag = u->judged ? u->etag : NULL;
    args.last_modified = u->judged ? u->last_modified : NULL;
    sg_crl_fetch_run(&res, p, &args);
    all_ok = sgh_crl_judge_all(g, p, u, &res, outs, details);
    if (res.reason == SG_R_OK && res.not_modified && u->judged) {
        sgh_log(SGH_M_CRL_UNCHANGED, 0, g->s, 0, "CRL %s not modified "
                "(HTTP 304): the verdicts stand", sgh_crl_esc(p, u->url));
    }
    sgh_crl_validators(u, &res, all_ok, &outs[0]);
    sgh_crl_reschedule(g, u, all_ok, apr_time_now());
    for (i = 0; i < u->entries->nelts; i++) {
        outs[i].attempt = start;
        outs[i].latency = res.latency;
        outs[i].failures = u->failures;
        outs[i].next_attempt = u->next_due;
        sgh_crl_apply(g, p, APR_ARRAY_IDX(u->entries, i, sg_entry_t *), u,
                      &outs[i], details[i]);
    }
}

void sgh_crl_tick(sgh_gen_t *g, apr_pool_t *p)
{
    sgh_crl_t *c = sgh_crl_cur;
    apr_time_t now = apr_time_now();
    sgh_crl_url_t *due = NULL;
    int i, k;

    if (c == NULL || c->g != g || g->table == NULL) {
        return;
    }
    for (i = 0; i < c->urls->nelts; i++) {
        sgh_crl_url_t *u = APR_ARRAY_IDX(c->urls, i, sgh_crl_url_t *);

        for (k = 0; k < u->entries->nelts; k++) {
            sg_entry_t *e = APR_ARRAY_IDX(u->entries, k, sg_entry_t *);

            if (sg_table_take_refresh(g->table, e->slot)) {
                /* asked on the status page: due now, backoff reset */
                u->next_due = now;
                u->failures = 0;
            }
        }
        if (due == NULL && u->next_due <= now) {
            due = u;
        }
    }
    if (due != NULL) {
        sgh_crl_download(g, p, due);
    }
}

/* ---- the status page ---- */

void sgh_crl_html_why(request_rec *r, apr_pool_t *p, const sg_entry_t *e)
{
    sg_why_t w = sgh_crl_why(e);
    const char *url = sgh_crl_watched(e);

    if (w == SG_WHY_NONE) {
        return;
    }
    ap_rprintf(r, "<br><small>no staple: <b class=\"why\">%s</b>: %s%s%s"
               "</small>", sg_why_name(w), ap_escape_html(p, sg_why_text(w)),
               url ? "<br>CRL " : "", url ? ap_escape_html(p, url) : "");
}

int sgh_crl_html_staple(request_rec *r, apr_pool_t *p, const sg_entry_t *e,
                        const sg_slot_info_t *info)
{
    (void)e;
    if (!info->crl) {
        return 0;
    }
    ap_rprintf(r, "<td>CRL thisUpdate %s<br><small>nextUpdate %s%s%s%s%s"
               "</small></td>", sgh_crl_time(p, info->this_update),
               sgh_crl_time(p, info->next_update),
               info->revoked ? "<br>revoked at " : "",
               info->revoked ? sgh_crl_time(p, info->revoked_at) : "",
               info->revoked ? ", reason " : "",
               info->revoked ? sg_crl_reason_name(info->revocation_reason)
                             : "");
    return 1;
}

static const char *sgh_crl_jtime(apr_pool_t *p, apr_time_t t)
{
    const char *s = t ? sg_text_time(p, t) : NULL;

    return s ? apr_pstrcat(p, "\"", s, "\"", NULL) : "null";
}

void sgh_crl_json(request_rec *r, apr_pool_t *p, const sg_entry_t *e,
                  const sg_slot_info_t *info)
{
    sg_why_t w = sgh_crl_why(e);
    const char *url = sgh_crl_watched(e);

    if (w == SG_WHY_NONE) {
        ap_rputs(",\"why\":null", r);
        return;
    }
    ap_rprintf(r, ",\"why\":\"%s\",\"why_text\":%s,\"crl_url\":%s",
               sg_why_name(w), sg_text_json(p, sg_why_text(w)),
               url ? sg_text_json(p, url) : "null");
    if (info->crl) {
        ap_rprintf(r, ",\"crl\":{\"this_update\":%s,\"next_update\":%s,"
                   "\"revoked\":%s,\"revoked_at\":%s,\"revocation_reason\":%s}",
                   sgh_crl_jtime(p, info->this_update),
                   sgh_crl_jtime(p, info->next_update),
                   info->revoked ? "true" : "false",
                   sgh_crl_jtime(p, info->revoked_at),
                   info->revoked ? sg_text_json(p, sg_crl_reason_name(
                                       info->revocation_reason)) : "null");
    }
}

const char *sgh_crl_auto(apr_pool_t *p, const sg_entry_t *e)
{
    sg_why_t w = sgh_crl_why(e);

    return w == SG_WHY_NONE ? "" : apr_pstrcat(p, " why=", sg_why_name(w),
                                               NULL);
}

const char *sgh_crl_label(apr_pool_t *p, const sg_entry_t *e)
{
    sg_why_t w = sgh_crl_why(e);

    return w == SG_WHY_NONE ? ""
                            : apr_psprintf(p, ",why=\"%s\"", sg_why_name(w));
}
