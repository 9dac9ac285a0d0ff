/* sgh_status.c: the operator's view. `SetHandler staple-guard-status`
 * serves HTML, JSON (?json or Accept: application/json), key: value lines
 * (?auto) and Prometheus metrics (?metrics); a section is added to
 * mod_status's server-status page. Every certificate-derived string is
 * escaped for its format. Nothing secret is shown: no keys, no responses.
 */
#include <apr_lib.h>
#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_protocol.h>
#include <mod_status.h>

#include "sg_text.h"
#include "sgh_config.h"
#include "sgh_entry.h"
#include "sgh_msg.h"
#include "sgh_shared.h"
#include "sgh_status.h"

APLOG_USE_MODULE(staple_guard);

#define SGH_STATUS_HANDLER "staple-guard-status"
#define SGH_STATUS_AT_RISK "at risk"

typedef enum {
    SGH_FMT_HTML, SGH_FMT_JSON, SGH_FMT_AUTO, SGH_FMT_METRICS
} sgh_format_t;

/* One certificate as the page shows it: a snapshot taken once. */
typedef struct {
    const sg_entry_t *e;
    sg_slot_info_t info;
    apr_uint64_t stapled;
    apr_uint64_t unstapled;
    const char *state;
    int valid;              /* a response is handed out right now */
    int at_risk;            /* Must-Staple, and no staple or soon none */
    apr_int64_t seconds_left;
} sgh_row_t;

static void sgh_status_row(sgh_row_t *row, sgh_gen_t *g, const sg_entry_t *e,
                          apr_time_t now)
{
    row->e = e;
    sg_table_get_info(g->table, e->slot, &row->info);
    sg_table_get_served(g->table, e->slot, &row->stapled, &row->unstapled);
    row->valid = row->info.next_update > now
                 && (row->info.state == SG_STATE_GOOD
                     || row->info.state == SG_STATE_REVOKED
                     || row->info.state == SG_STATE_FAILING);
    row->seconds_left = row->valid
                        ? (apr_int64_t)apr_time_sec(row->info.next_update - now)
                        : 0;
    /* The fetcher marks expiry once a second; the page never lags. */
    row->state = (!row->valid && row->info.next_update != 0
                  && row->info.state != SG_STATE_NO_URL)
                 ? sg_state_name(SG_STATE_EXPIRED)
                 : sg_state_name(row->info.state);
    /* At risk: Must-Staple, and no staple now, or the responder failing
     * while the one held runs out within StapleGuardWarnBefore. A short
     * validity alone, with refreshes working, is no risk. */
    row->at_risk = e->cert->must_staple
                   && (!row->valid
                       || (row->info.failures > 0
                           && row->info.next_update - now
                              < sgh_config_global()->warn_before));
}

static sgh_row_t *sgh_status_rows(request_rec *r, sgh_gen_t *g, int *n)
{
    apr_time_t now = apr_time_now();
    sgh_row_t *rows;
    int i;

    *n = sg_registry_count(g->reg);
    rows = apr_pcalloc(r->pool, sizeof(*rows) * (apr_size_t)(*n + 1));
    for (i = 0; i < *n; i++) {
        sgh_status_row(&rows[i], g, sg_registry_at(g->reg, i), now);
    }
    return rows;
}

static const char *sgh_status_vhosts(apr_pool_t *p, const sg_entry_t *e)
{
    return apr_array_pstrcat(p, sgh_entry(e)->vhosts, ' ');
}

static const char *sgh_h(request_rec *r, const char *s)
{
    return s ? ap_escape_html2(r->pool, s, 1) : "";
}

static const char *sgh_htime(request_rec *r, apr_time_t t)
{
    const char *s = sg_text_time(r->pool, t);

    return s ? s : "-";
}

/* Counts for the HTML summary, ?auto and the metrics. */
static int sgh_status_count(const sgh_row_t *rows, int n, const char *state)
{
    int i, c = 0;

    for (i = 0; i < n; i++) {
        c += (strcmp(rows[i].state, state) == 0);
    }
    return c;
}

static int sgh_status_at_risk(const sgh_row_t *rows, int n)
{
    int i, c = 0;

    for (i = 0; i < n; i++) {
        c += rows[i].at_risk;
    }
    return c;
}

/* "no OCSP URL" -> "no_OCSP_URL": a key without spaces (?auto, and the
 * HTML's class names). */
static const char *sgh_status_key(apr_pool_t *p, const char *name)
{
    char *k = apr_pstrdup(p, name), *c;

    for (c = k; *c != '\0'; c++) {
        if (!apr_isalnum(*c)) {
            *c = '_';
        }
    }
    return k;
}

/* ---- HTML ---- */

/* The response's own nextUpdate, as a line below the end shown where it
 * is not that end: the response is older than StapleGuardMaxAge allows
 * by then, or has no nextUpdate ("none"). */
static const char *sgh_status_html_own_next(request_rec *r,
                                            const sg_slot_info_t *info)
{
    if (info->next_update == 0
        || info->response_next_update == info->next_update) {
        return "";
    }
    return apr_pstrcat(r->pool, "nextUpdate ",
                       info->response_next_update
                       ? sgh_htime(r, info->response_next_update) : "none",
                       "<br>", NULL);
}

/* The responders, in the order they are asked; the one that answered the
 * last attempt is marked when there are several. */
static const char *sgh_status_urls_html(request_rec *r, const sgh_row_t *w)
{
    const sg_entry_t *e = w->e;
    const char *out = "";
    int i, n = sg_registry_url_count(e);

    for (i = 0; i < n; i++) {
        out = apr_pstrcat(r->pool, out, i ? "<br>" : "",
                          sgh_h(r, sg_registry_url_at(e, i)),
                          n > 1 && w->info.last_attempt
                          && i == w->info.url_index ? " (answered)" : "",
                          NULL);
    }
    if (n > 0 && e->proxy != NULL) {
        out = apr_pstrcat(r->pool, out, "<br>via proxy ",
                          sgh_h(r, e->proxy->shown), NULL);
    }
    return n > 0 ? out : "none";
}

static const char *sgh_status_urls_json(apr_pool_t *p, const sg_entry_t *e)
{
    const char *out = "[";
    int i;

    for (i = 0; i < sg_registry_url_count(e); i++) {
        out = apr_pstrcat(p, out, i ? "," : "",
                          sg_text_json(p, sg_registry_url_at(e, i)), NULL);
    }
    return apr_pstrcat(p, out, "]", NULL);
}

static void sgh_status_html_cert(request_rec *r, const sgh_row_t *w)
{
    const sg_entry_t *e = w->e;

    ap_rprintf(r, "<td class=\"cert\"><b>%s</b>%s<br><small>serial %s<br>"
               "issuer %s<br>virtual hosts %s<br>OCSP %s</small></td>",
               sgh_h(r, e->cert->subject),
               e->cert->must_staple ? " <span class=\"b ms\">Must-Staple</span>"
                                    : "",
               sgh_h(r, e->cert->serial), sgh_h(r, e->cert->issuer_name),
               sgh_h(r, sgh_status_vhosts(r->pool, e)),
               sgh_status_urls_html(r, w));
}

/* The state in colour and in words: colour alone says nothing to a
 * reader who cannot tell the colours apart, or to a text browser. */
static void sgh_status_html_state(request_rec *r, const sgh_row_t *w)
{
    ap_rprintf(r, "<td><span class=\"b st-%s\">%s</span>%s<br>"
               "<small>response: %s</small></td>",
               sgh_status_key(r->pool, w->state), w->state,
               w->at_risk ? " <span class=\"b risk\">" SGH_STATUS_AT_RISK
                            "</span>" : "",
               sg_source_name(w->info.source));
}

/* Details only where there is something to say: a glance at an empty
 * row should not have to read dashes. */
static void sgh_status_html_staple(request_rec *r, const sgh_row_t *w)
{
    if (w->info.next_update == 0) {
        ap_rputs("<td>none</td>", r);
    }
    else {
        ap_rprintf(r, "<td>%s<br><small>%" APR_INT64_T_FMT " s left<br>%s"
                   "thisUpdate %s<br>producedAt %s</small></td>",
                   sgh_htime(r, w->info.next_update), w->seconds_left,
                   sgh_status_html_own_next(r, &w->info),
                   sgh_htime(r, w->info.this_update),
                   sgh_htime(r, w->info.produced_at));
    }
}

static void sgh_status_html_attempt(request_rec *r, const sgh_row_t *w)
{
    if (w->info.last_attempt == 0) {
        ap_rprintf(r, "<td>none%s</td>", w->info.next_attempt == 0 ? ""
                   : apr_pstrcat(r->pool, "<br><small>next ",
                                 sgh_htime(r, w->info.next_attempt),
                                 "</small>", NULL));
    }
    else {
        ap_rprintf(r, "<td>%s<br><small>%s (%s), %" APR_TIME_T_FMT " ms<br>"
                   "%d failures in a row<br>next %s</small></td>",
                   sgh_htime(r, w->info.last_attempt),
                   sg_reason_name(w->info.last_result),
                   sg_reason_id(w->info.last_result),
                   apr_time_as_msec(w->info.latency), w->info.failures,
                   sgh_htime(r, w->info.next_attempt));
    }
}

/* The order of the table: what needs attention first (a certificate at
 * risk before all, whatever its state), working ones next, those with
 * nothing to staple last. Within a rank, the configuration's order. */
static const sg_state_t sgh_status_html_order[] = {
    SG_STATE_EXPIRED, SG_STATE_REVOKED, SG_STATE_FAILING, SG_STATE_NONE,
    SG_STATE_GOOD, SG_STATE_NO_URL
};
#define SGH_HTML_ORDER_N \
    (int)(sizeof(sgh_status_html_order) / sizeof(sgh_status_html_order[0]))

/* 1 + the state's place in sgh_status_html_order (unknown: last). */
static int sgh_status_html_state_rank(const char *state)
{
    int i, rank = SGH_HTML_ORDER_N + 1;

    for (i = 0; i < SGH_HTML_ORDER_N && rank > SGH_HTML_ORDER_N; i++) {
        if (strcmp(state, sg_state_name(sgh_status_html_order[i])) == 0) {
            rank = i + 1;
        }
    }
    return rank;
}

/* 0 for at risk, else its state's rank. */
static int sgh_status_html_rank(const sgh_row_t *w)
{
    return w->at_risk ? 0 : sgh_status_html_state_rank(w->state);
}

static int sgh_status_html_cmp(const void *a, const void *b)
{
    const sgh_row_t *x = *(const sgh_row_t *const *)a;
    const sgh_row_t *y = *(const sgh_row_t *const *)b;
    int d = sgh_status_html_rank(x) - sgh_status_html_rank(y);

    /* qsort is not stable; the rows' addresses are configuration order */
    return d != 0 ? d : (x > y) - (x < y);
}

/* Ranked before good: tinted, so that the eye finds it. */
static int sgh_status_html_attention(const sgh_row_t *w)
{
    return sgh_status_html_rank(w)
           < sgh_status_html_state_rank(sg_state_name(SG_STATE_GOOD));
}

static void sgh_status_html_row(request_rec *r, const sgh_row_t *w)
{
    ap_rputs(sgh_status_html_attention(w) ? "<tr class=\"attn\">" : "<tr>", r);
    sgh_status_html_cert(r, w);
    sgh_status_html_state(r, w);
    sgh_status_html_staple(r, w);
    sgh_status_html_attempt(r, w);
    ap_rprintf(r, "<td>%" APR_UINT64_T_FMT " / %" APR_UINT64_T_FMT
               "</td></tr>\n", w->stapled, w->unstapled);
}

static void sgh_status_html_table(request_rec *r, const sgh_row_t *rows, int n)
{
    const sgh_row_t **sorted = apr_palloc(r->pool,
                                          sizeof(*sorted) * (apr_size_t)(n + 1));
    int i;

    for (i = 0; i < n; i++) {
        sorted[i] = &rows[i];
    }
    qsort(sorted, (apr_size_t)n, sizeof(*sorted), sgh_status_html_cmp);
    ap_rputs("<table>\n<tr><th>certificate</th><th>state</th>"
             "<th>staple valid until</th><th>last attempt</th>"
             "<th>handshakes stapled / not</th></tr>\n", r);
    for (i = 0; i < n; i++) {
        sgh_status_html_row(r, sorted[i]);
    }
    ap_rputs("</table>\n", r);
}

/* The summary's order: working, in trouble, then nothing to do. At risk
 * is a flag, not a state (SGH_HTML_AT_RISK stands for it here). */
#define SGH_HTML_AT_RISK SG_STATE_COUNT
static const int sgh_status_html_summary_order[] = {
    SG_STATE_GOOD, SG_STATE_FAILING, SG_STATE_EXPIRED, SG_STATE_REVOKED,
    SGH_HTML_AT_RISK, SG_STATE_NO_URL, SG_STATE_NONE
};
#define SGH_HTML_SUMMARY_N (int)(sizeof(sgh_status_html_summary_order) \
                                 / sizeof(sgh_status_html_summary_order[0]))

/* One line: how many certificates are in each state. */
static void sgh_status_html_summary(request_rec *r, const sgh_row_t *rows,
                                    int n)
{
    const char *name, *cls;
    int i, s, c;

    ap_rprintf(r, "<p class=\"sum\"><b>%d certificates:</b> ", n);
    for (i = 0; i < SGH_HTML_SUMMARY_N; i++) {
        s = sgh_status_html_summary_order[i];
        name = s == SGH_HTML_AT_RISK ? SGH_STATUS_AT_RISK : sg_state_name(s);
        cls = s == SGH_HTML_AT_RISK
              ? "risk" : apr_pstrcat(r->pool, "st-",
                                     sgh_status_key(r->pool, name), NULL);
        c = s == SGH_HTML_AT_RISK ? sgh_status_at_risk(rows, n)
                                  : sgh_status_count(rows, n, name);
        ap_rprintf(r, "%s<span class=\"b %s%s\">%d %s</span>", i ? ", " : "",
                   cls, c ? "" : " zero", c, name);
    }
    ap_rputs("</p>\n", r);
}

/* Inline, for the handler's page and server-status alike: the page loads
 * nothing from elsewhere. Every rule is under .sg, so that none touches
 * mod_status's own page. Details are small text in their cell, so that
 * the table fits 1280 pixels. */
#define SGH_HTML_STYLE "<style>" \
    ".sg{font:14px/1.35 sans-serif;max-width:1260px}" \
    ".sg table{border-collapse:collapse;width:100%}" \
    ".sg th,.sg td{border-bottom:1px solid #ccc;padding:4px 6px;" \
    "text-align:left;vertical-align:top}" \
    ".sg th{background:#eee}" \
    ".sg small{color:#444;font-size:12px}" \
    ".sg .cert{overflow-wrap:anywhere;max-width:420px}" \
    ".sg tr.attn td{background:#fff7f0}" \
    ".sg .b{display:inline-block;padding:1px 6px;border-radius:3px;" \
    "font-weight:bold;white-space:nowrap}" \
    ".sg .st-good{background:#d4edda;color:#155724}" \
    ".sg .st-failing{background:#fff3cd;color:#7a5b00}" \
    ".sg .st-expired,.sg .st-revoked,.sg .risk{background:#c62828;color:#fff}" \
    ".sg .st-no_response_yet{background:#ffe0b2;color:#8a4b08}" \
    ".sg .st-no_OCSP_URL{background:#e2e3e5;color:#383d41}" \
    ".sg .ms{background:#e3e8f8;color:#1a3a8a;font-weight:normal}" \
    ".sg .zero{opacity:.45}" \
    "</style>\n"

/* The summary and the table, in a div the style above applies to. */
static void sgh_status_html_body(request_rec *r, const sgh_row_t *rows, int n)
{
    ap_rputs("<div class=\"sg\">\n", r);
    sgh_status_html_summary(r, rows, n);
    sgh_shared_status(r, SGH_SHARED_HTML);
    sgh_status_html_table(r, rows, n);
    ap_rputs("</div>\n", r);
}

static void sgh_status_html(request_rec *r, const sgh_row_t *rows, int n)
{
    ap_set_content_type(r, "text/html; charset=utf-8");
    ap_rputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
             "<title>OCSP stapling</title>" SGH_HTML_STYLE "</head><body>\n"
             "<h1>OCSP stapling (mod_staple_guard)</h1>\n", r);
    sgh_status_html_body(r, rows, n);
    ap_rputs("<p>Times in UTC. Formats: <a href=\"?json\">json</a> "
             "<a href=\"?auto\">auto</a> <a href=\"?metrics\">metrics</a>."
             "</p>\n</body></html>\n", r);
}

/* ---- JSON ---- */

static const char *sgh_jtime(request_rec *r, apr_time_t t)
{
    const char *s = sg_text_time(r->pool, t);

    return s ? apr_pstrcat(r->pool, "\"", s, "\"", NULL) : "null";
}

static void sgh_status_json_row(request_rec *r, const sgh_row_t *w, int last)
{
    const sg_entry_t *e = w->e;
    const apr_array_header_t *vhosts = sgh_entry(e)->vhosts;
    apr_pool_t *p = r->pool;
    int i;

    ap_rprintf(r, "{\"subject\":%s,\"serial\":%s,\"issuer\":%s,"
               "\"sha256\":\"%s\",\"vhosts\":[",
               sg_text_json(p, e->cert->subject),
               sg_text_json(p, e->cert->serial),
               sg_text_json(p, e->cert->issuer_name), e->cert->hash);
    for (i = 0; i < vhosts->nelts; i++) {
        ap_rprintf(r, "%s%s", i ? "," : "",
                   sg_text_json(p, APR_ARRAY_IDX(vhosts, i, const char *)));
    }
    /* the proxy as configured, less its credentials (sg_proxy_t.shown) */
    ap_rprintf(r, "],\"ocsp_urls\":%s,\"proxy\":%s,\"answered_by\":%s",
               sgh_status_urls_json(p, e),
               e->proxy ? sg_text_json(p, e->proxy->shown) : "null",
               w->info.last_attempt
               ? sg_text_json(p, sg_registry_url_at(e, w->info.url_index))
               : "null");
    ap_rprintf(r, ",\"ocsp_url\":%s,\"must_staple\":%s,\"state\":\"%s\","
               "\"at_risk\":%s,\"this_update\":%s,\"valid_until\":%s,"
               "\"next_update\":%s,\"seconds_left\":%" APR_INT64_T_FMT
               ",\"produced_at\":%s,\"source\":\"%s\",",
               e->url ? sg_text_json(p, e->url) : "null",
               e->cert->must_staple ? "true" : "false", w->state,
               w->at_risk ? "true" : "false", sgh_jtime(r, w->info.this_update),
               sgh_jtime(r, w->info.next_update),
               sgh_jtime(r, w->info.response_next_update), w->seconds_left,
               sgh_jtime(r, w->info.produced_at),
               sg_source_name(w->info.source));
    ap_rprintf(r, "\"last_attempt\":%s,\"last_result\":%s,\"last_result_id\":%s,"
               "\"failures\":%d,\"next_attempt\":%s,\"latency_ms\":%"
               APR_TIME_T_FMT ",\"stapled\":%" APR_UINT64_T_FMT
               ",\"not_stapled\":%" APR_UINT64_T_FMT "}%s\n",
               sgh_jtime(r, w->info.last_attempt),
               w->info.last_attempt
               ? apr_psprintf(p, "\"%s\"", sg_reason_name(w->info.last_result))
               : "null",
               w->info.last_attempt
               ? apr_psprintf(p, "\"%s\"", sg_reason_id(w->info.last_result))
               : "null",
               w->info.failures, sgh_jtime(r, w->info.next_attempt),
               apr_time_as_msec(w->info.latency), w->stapled, w->unstapled,
               last ? "" : ",");
}

static void sgh_status_json(request_rec *r, const sgh_row_t *rows, int n)
{
    int i;

    ap_set_content_type(r, "application/json");
    ap_rprintf(r, "{\"now\":%s,\n", sgh_jtime(r, apr_time_now()));
    sgh_shared_status(r, SGH_SHARED_JSON);
    ap_rputs("\"certificates\":[\n", r);
    for (i = 0; i < n; i++) {
        sgh_status_json_row(r, &rows[i], i == n - 1);
    }
    ap_rputs("]}\n", r);
}

/* ---- ?auto, in the manner of server-status?auto ---- */

static void sgh_status_auto(request_rec *r, const sgh_row_t *rows, int n)
{
    int i, s;

    ap_rprintf(r, "StapleGuardCertificates: %d\n", n);
    for (s = 0; s < SG_STATE_COUNT; s++) {
        ap_rprintf(r, "StapleGuardState_%s: %d\n",
                   sgh_status_key(r->pool, sg_state_name(s)),
                   sgh_status_count(rows, n, sg_state_name(s)));
    }
    ap_rprintf(r, "StapleGuardAtRisk: %d\n", sgh_status_at_risk(rows, n));
    sgh_shared_status(r, SGH_SHARED_AUTO);
    for (i = 0; i < n; i++) {
        const sgh_row_t *w = &rows[i];

        /* One line each; strip anything that could start a new line. */
        ap_rprintf(r, "StapleGuardCert%d: %s state=%s%s left=%" APR_INT64_T_FMT "s "
                   "failures=%d last=%s stapled=%" APR_UINT64_T_FMT
                   " not_stapled=%" APR_UINT64_T_FMT " subject=%s\n",
                   i, w->e->cert->hash, sgh_status_key(r->pool, w->state),
                   w->at_risk ? " at_risk=1" : "", w->seconds_left,
                   w->info.failures,
                   w->info.last_attempt ? sg_reason_name(w->info.last_result)
                                        : "-",
                   w->stapled, w->unstapled,
                   ap_escape_urlencoded(r->pool, w->e->cert->subject));
    }
}

/* ---- Prometheus text format ---- */

static void sgh_status_metrics_states(request_rec *r, const sgh_row_t *rows,
                                     int n)
{
    int s;

    ap_rputs("# HELP staple_guard_certificates Certificates by stapling "
             "state.\n# TYPE staple_guard_certificates gauge\n", r);
    for (s = 0; s < SG_STATE_COUNT; s++) {
        ap_rprintf(r, "staple_guard_certificates{state=\"%s\"} %d\n",
                   sg_state_name(s), sgh_status_count(rows, n, sg_state_name(s)));
    }
    ap_rprintf(r, "# HELP staple_guard_certificates_at_risk Must-Staple "
               "certificates without a staple or close to none.\n"
               "# TYPE staple_guard_certificates_at_risk gauge\n"
               "staple_guard_certificates_at_risk %d\n",
               sgh_status_at_risk(rows, n));
}

static void sgh_status_metrics_attempts(request_rec *r, const sgh_row_t *rows,
                                       int n)
{
    unsigned long sum;
    int i, k;

    ap_rputs("# HELP staple_guard_fetch_attempts_total Requests to OCSP "
             "responders, by result.\n"
             "# TYPE staple_guard_fetch_attempts_total counter\n", r);
    for (k = 0; k < SG_R_COUNT; k++) {
        for (sum = 0, i = 0; i < n; i++) {
            sum += rows[i].info.attempts[k];
        }
        ap_rprintf(r, "staple_guard_fetch_attempts_total{result=\"%s\"} %lu\n",
                   sg_reason_name(k), sum);
    }
}

/* The labels that name a certificate in every per-certificate series. */
static const char *sgh_status_metric_cert(request_rec *r, const sgh_row_t *w)
{
    return apr_psprintf(r->pool, "certificate=\"%s\",subject=\"%s\"",
                        w->e->cert->hash,
                        sg_text_label(r->pool, w->e->cert->subject));
}

static void sgh_status_metric_head(request_rec *r, const char *name,
                                   const char *help)
{
    ap_rprintf(r, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

/* Per certificate, for alerts that name it: its state (one series, 1,
 * for the state it is in) and whether it is at risk (0 or 1). */
static void sgh_status_metrics_certs(request_rec *r, const sgh_row_t *rows,
                                    int n)
{
    int i;

    sgh_status_metric_head(r, "staple_guard_certificate_state",
                           "Each certificate's stapling state: 1 for the "
                           "state it is in.");
    for (i = 0; i < n; i++) {
        ap_rprintf(r, "staple_guard_certificate_state{%s,state=\"%s\"} 1\n",
                   sgh_status_metric_cert(r, &rows[i]), rows[i].state);
    }
    sgh_status_metric_head(r, "staple_guard_certificate_at_risk",
                           "1 for a Must-Staple certificate without a staple "
                           "or close to none, else 0.");
    for (i = 0; i < n; i++) {
        ap_rprintf(r, "staple_guard_certificate_at_risk{%s} %d\n",
                   sgh_status_metric_cert(r, &rows[i]), rows[i].at_risk);
    }
}

static void sgh_status_metrics(request_rec *r, const sgh_row_t *rows, int n)
{
    apr_uint64_t stapled = 0, unstapled = 0;
    int i;

    ap_set_content_type(r, "text/plain; version=0.0.4; charset=utf-8");
    sgh_status_metrics_states(r, rows, n);
    sgh_status_metrics_attempts(r, rows, n);
    sgh_status_metrics_certs(r, rows, n);
    sgh_shared_status(r, SGH_SHARED_METRICS);
    ap_rputs("# HELP staple_guard_next_update_seconds Seconds until the "
             "held response stops being stapled: its nextUpdate, or earlier "
             "by StapleGuardMaxAge (0 when none is valid).\n"
             "# TYPE staple_guard_next_update_seconds gauge\n", r);
    for (i = 0; i < n; i++) {
        ap_rprintf(r, "staple_guard_next_update_seconds{%s} %" APR_INT64_T_FMT
                   "\n", sgh_status_metric_cert(r, &rows[i]),
                   rows[i].seconds_left);
        stapled += rows[i].stapled;
        unstapled += rows[i].unstapled;
    }
    ap_rprintf(r, "# HELP staple_guard_handshakes_total Handshakes that "
               "asked for a staple since the last (re)start, by whether one "
               "was sent.\n# TYPE staple_guard_handshakes_total counter\n"
               "staple_guard_handshakes_total{stapled=\"yes\"} %"
               APR_UINT64_T_FMT "\nstaple_guard_handshakes_total"
               "{stapled=\"no\"} %" APR_UINT64_T_FMT "\n", stapled, unstapled);
}

static sgh_format_t sgh_status_format(request_rec *r)
{
    const char *accept = apr_table_get(r->headers_in, "Accept");

    if (r->args != NULL) {
        if (strcmp(r->args, "json") == 0) {
            return SGH_FMT_JSON;
        }
        if (strcmp(r->args, "auto") == 0) {
            return SGH_FMT_AUTO;
        }
        /* "metrics=" is what Prometheus asks for with a scrape config's
         * params: { metrics: [""] } (docs/troubleshooting.md, "Alerts"). */
        if (strcmp(r->args, "metrics") == 0
            || strcmp(r->args, "metrics=") == 0) {
            return SGH_FMT_METRICS;
        }
    }
    if (accept != NULL && ap_strcasestr(accept, "application/json") != NULL) {
        return SGH_FMT_JSON;
    }
    return SGH_FMT_HTML;
}

/* ---- actions (POST) ---- */

/* A form is two short fields; anything longer is not ours. */
#define SGH_ACTION_FORM_MAX 1024
#define SGH_ACTION_FIELDS_MAX 8
#define SGH_ACTION_ALL "all"

/* The answer to an action: its status, how many certificates were
 * scheduled, and what was done or why not, as text or JSON. */
static int sgh_action_answer(request_rec *r, int status, int scheduled,
                             const char *msg)
{
    r->status = status;
    /* the answer may repeat what the client sent */
    apr_table_setn(r->headers_out, "X-Content-Type-Options", "nosniff");
    if (sgh_status_format(r) == SGH_FMT_JSON) {
        ap_set_content_type(r, "application/json");
        ap_rprintf(r, "{\"status\":%d,\"scheduled\":%d,\"message\":%s}"
                   "\n", status, scheduled, sg_text_json(r->pool, msg));
    }
    else {
        ap_set_content_type(r, "text/plain; charset=utf-8");
        ap_rprintf(r, "%s\n", msg);
    }
    return OK;
}

/* The value of the form's field name, or NULL. */
static const char *sgh_action_field(request_rec *r, apr_array_header_t *form,
                                    const char *name)
{
    ap_form_pair_t *pairs = (ap_form_pair_t *)form->elts;
    apr_off_t len;
    apr_size_t size;
    char *v;
    int i;

    for (i = 0; i < form->nelts; i++) {
        if (strcmp(pairs[i].name, name) != 0
            || apr_brigade_length(pairs[i].value, 1, &len) != APR_SUCCESS
            || len > SGH_ACTION_FORM_MAX) {
            continue;
        }
        size = (apr_size_t)len;
        v = apr_palloc(r->pool, size + 1);
        apr_brigade_flatten(pairs[i].value, v, &size);
        v[size] = '\0';
        return v;
    }
    return NULL;
}

/* Flag every certificate that cert names (its SHA-256 as the page shows
 * it, or "all") for the fetcher, which owns the schedule: it takes the
 * flags at its next look. Certificates without a responder are never
 * fetched, so never flagged. Returns how many were; *named: whether cert
 * named any certificate at all. */
static int sgh_action_refresh(sgh_gen_t *g, const char *cert, int *named)
{
    int i, all = strcmp(cert, SGH_ACTION_ALL) == 0, n = 0;

    *named = all;
    for (i = 0; i < sg_registry_count(g->reg); i++) {
        sg_entry_t *e = sg_registry_at(g->reg, i);

        if (!all && ap_cstr_casecmp(e->cert->hash, cert) != 0) {
            continue;
        }
        *named = 1;
        if (e->url != NULL) {
            sg_table_request_refresh(g->table, e->slot);
            n++;
        }
    }
    return n;
}

/* POST action=refresh&cert=<id>|all, where StapleGuardStatusActions is On. */
static int sgh_status_action(request_rec *r, sgh_gen_t *g)
{
    apr_array_header_t *form = NULL;
    const char *action, *cert;
    int n, named;

    if (!sgh_config_status_actions(r)) {
        return sgh_action_answer(r, HTTP_FORBIDDEN, 0, "actions are not "
                                 "enabled here (StapleGuardStatusActions)");
    }
    if (ap_parse_form_data(r, NULL, &form, SGH_ACTION_FIELDS_MAX,
                           SGH_ACTION_FORM_MAX) != OK || form == NULL) {
        return sgh_action_answer(r, HTTP_BAD_REQUEST, 0, "the form could "
                                 "not be read");
    }
    action = sgh_action_field(r, form, "action");
    cert = sgh_action_field(r, form, "cert");
    if (action == NULL || strcmp(action, "refresh") != 0 || cert == NULL) {
        return sgh_action_answer(r, HTTP_BAD_REQUEST, 0, "expected "
                                 "action=refresh and cert=<sha256>|all");
    }
    n = sgh_action_refresh(g, cert, &named);
    if (!named) {
        return sgh_action_answer(r, HTTP_NOT_FOUND, 0, apr_psprintf(r->pool,
                                 "no certificate %s here", cert));
    }
    if (n == 0) {
        return sgh_action_answer(r, HTTP_CONFLICT, 0, "nothing to refresh: "
                                 "no OCSP URL");
    }
    sgh_log(SGH_M_REFRESH_ASKED, 0, r->server, 0, "refresh requested from "
            "the status page for %d certificates by %s", n, r->useragent_ip);
    return sgh_action_answer(r, HTTP_OK, n, apr_psprintf(r->pool,
                             "refresh scheduled for %d certificates: the "
                             "fetcher asks at its next look (within a "
                             "second)", n));
}

/* A GET (or HEAD) that asks for an action: actions change something, so
 * they are POST only. */
static int sgh_status_get_action(request_rec *r)
{
    return r->args != NULL && (strncmp(r->args, "action=", 7) == 0
                               || strstr(r->args, "&action=") != NULL);
}

static int sgh_status_handler(request_rec *r)
{
    sgh_gen_t *g = sgh_gen();
    sgh_row_t *rows;
    int n;

    if (r->handler == NULL || strcmp(r->handler, SGH_STATUS_HANDLER) != 0) {
        return DECLINED;
    }
    r->allowed = (AP_METHOD_BIT << M_GET)
                 | (sgh_config_status_actions(r) ? AP_METHOD_BIT << M_POST : 0);
    if ((r->method_number != M_GET && r->method_number != M_POST)
        || (r->method_number == M_GET && sgh_status_get_action(r))) {
        return HTTP_METHOD_NOT_ALLOWED;
    }
    if (g == NULL || g->table == NULL) {
        return HTTP_SERVICE_UNAVAILABLE;
    }
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    apr_table_mergen(r->headers_out, "Vary", "Accept");
    if (r->method_number == M_POST) {
        return sgh_status_action(r, g);
    }
    rows = sgh_status_rows(r, g, &n);
    switch (sgh_status_format(r)) {
    case SGH_FMT_JSON:
        sgh_status_json(r, rows, n);
        break;
    case SGH_FMT_AUTO:
        ap_set_content_type(r, "text/plain; charset=utf-8");
        sgh_status_auto(r, rows, n);
        break;
    case SGH_FMT_METRICS:
        sgh_status_metrics(r, rows, n);
        break;
    default:
        sgh_status_html(r, rows, n);
        break;
    }
    return OK;
}

/* A section on mod_status's server-status page. */
static int sgh_status_hook(request_rec *r, int flags)
{
    sgh_gen_t *g = sgh_gen();
    sgh_row_t *rows;
    int n;

    if (g == NULL || g->table == NULL) {
        return OK;
    }
    rows = sgh_status_rows(r, g, &n);
    if (flags & AP_STATUS_SHORT) {
        sgh_status_auto(r, rows, n);
    }
    else {
        ap_rputs("<hr>\n<h2>OCSP stapling (mod_staple_guard)</h2>\n"
                 SGH_HTML_STYLE, r);
        sgh_status_html_body(r, rows, n);
    }
    return OK;
}

void sgh_status_register_hooks(void)
{
    ap_hook_handler(sgh_status_handler, NULL, NULL, APR_HOOK_MIDDLE);
    APR_OPTIONAL_HOOK(ap, status_hook, sgh_status_hook, NULL, NULL,
                      APR_HOOK_MIDDLE);
}
