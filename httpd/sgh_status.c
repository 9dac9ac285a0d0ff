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
        out = apr_pstrcat(r->pool, out, "<br><small>via proxy ",
                          sgh_h(r, e->proxy->shown), "</small>", NULL);
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

static void sgh_status_html_row(request_rec *r, const sgh_row_t *w)
{
    const sg_entry_t *e = w->e;

    ap_rprintf(r, "<tr><td>%s<br><small>serial %s<br>issuer %s<br>%s</small></td>",
               sgh_h(r, e->cert->subject), sgh_h(r, e->cert->serial),
               sgh_h(r, e->cert->issuer_name),
               sgh_h(r, sgh_status_vhosts(r->pool, e)));
    ap_rprintf(r, "<td>%s</td><td>%s</td><td>%s%s</td>",
               sgh_status_urls_html(r, w),
               e->cert->must_staple ? "yes" : "no", sgh_h(r, w->state),
               w->at_risk ? " <strong>(" SGH_STATUS_AT_RISK ")</strong>" : "");
    ap_rprintf(r, "<td>%s</td><td>%s<br><small>%s%" APR_INT64_T_FMT
               " s left</small></td><td>%s</td><td>%s</td>",
               sgh_htime(r, w->info.this_update),
               sgh_htime(r, w->info.next_update),
               sgh_status_html_own_next(r, &w->info), w->seconds_left,
               sgh_htime(r, w->info.produced_at),
               sg_source_name(w->info.source));
    ap_rprintf(r, "<td>%s<br><small>%s (%s)</small></td><td>%d</td>"
               "<td>%s</td><td>%" APR_TIME_T_FMT " ms</td>"
               "<td>%" APR_UINT64_T_FMT " / %" APR_UINT64_T_FMT "</td></tr>\n",
               sgh_htime(r, w->info.last_attempt),
               w->info.last_attempt ? sg_reason_name(w->info.last_result) : "-",
               w->info.last_attempt ? sg_reason_id(w->info.last_result) : "-",
               w->info.failures, sgh_htime(r, w->info.next_attempt),
               apr_time_as_msec(w->info.latency), w->stapled, w->unstapled);
}

static void sgh_status_html_table(request_rec *r, const sgh_row_t *rows, int n)
{
    int i;

    ap_rputs("<table border=\"1\" cellpadding=\"3\">\n<tr><th>certificate"
             "</th><th>OCSP URL</th><th>Must-Staple</th><th>state</th>"
             "<th>thisUpdate</th><th>valid until</th><th>producedAt</th>"
             "<th>from</th><th>last attempt</th><th>failures</th>"
             "<th>next attempt</th><th>latency</th>"
             "<th>stapled / not</th></tr>\n", r);
    for (i = 0; i < n; i++) {
        sgh_status_html_row(r, &rows[i]);
    }
    ap_rputs("</table>\n", r);
}

static void sgh_status_html(request_rec *r, const sgh_row_t *rows, int n)
{
    ap_set_content_type(r, "text/html; charset=utf-8");
    ap_rputs(DOCTYPE_HTML_4_01 "<html><head><title>OCSP stapling</title>"
             "</head><body>\n<h1>OCSP stapling (mod_staple_guard)</h1>\n", r);
    ap_rprintf(r, "<p>%d certificates; times in UTC. Formats: "
               "<a href=\"?json\">json</a> <a href=\"?auto\">auto</a> "
               "<a href=\"?metrics\">metrics</a>.</p>\n", n);
    sgh_status_html_table(r, rows, n);
    ap_rputs("</body></html>\n", r);
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
    ap_rprintf(r, "{\"now\":%s,\"certificates\":[\n",
               sgh_jtime(r, apr_time_now()));
    for (i = 0; i < n; i++) {
        sgh_status_json_row(r, &rows[i], i == n - 1);
    }
    ap_rputs("]}\n", r);
}

/* ---- ?auto, in the manner of server-status?auto ---- */

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

/* "no OCSP URL" -> "no_OCSP_URL": a key without spaces. */
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

static void sgh_status_metrics(request_rec *r, const sgh_row_t *rows, int n)
{
    apr_uint64_t stapled = 0, unstapled = 0;
    int i;

    ap_set_content_type(r, "text/plain; version=0.0.4; charset=utf-8");
    sgh_status_metrics_states(r, rows, n);
    sgh_status_metrics_attempts(r, rows, n);
    ap_rputs("# HELP staple_guard_next_update_seconds Seconds until the "
             "held response stops being stapled: its nextUpdate, or earlier "
             "by StapleGuardMaxAge (0 when none is valid).\n"
             "# TYPE staple_guard_next_update_seconds gauge\n", r);
    for (i = 0; i < n; i++) {
        ap_rprintf(r, "staple_guard_next_update_seconds{certificate=\"%s\","
                   "subject=\"%s\"} %" APR_INT64_T_FMT "\n", rows[i].e->cert->hash,
                   sg_text_label(r->pool, rows[i].e->cert->subject),
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
        if (strcmp(r->args, "metrics") == 0) {
            return SGH_FMT_METRICS;
        }
    }
    if (accept != NULL && ap_strcasestr(accept, "application/json") != NULL) {
        return SGH_FMT_JSON;
    }
    return SGH_FMT_HTML;
}

static int sgh_status_handler(request_rec *r)
{
    sgh_gen_t *g = sgh_gen();
    sgh_row_t *rows;
    int n;

    if (r->handler == NULL || strcmp(r->handler, SGH_STATUS_HANDLER) != 0) {
        return DECLINED;
    }
    r->allowed = (AP_METHOD_BIT << M_GET);
    if (r->method_number != M_GET) {
        return HTTP_METHOD_NOT_ALLOWED;
    }
    if (g == NULL || g->table == NULL) {
        return HTTP_SERVICE_UNAVAILABLE;
    }
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    apr_table_mergen(r->headers_out, "Vary", "Accept");
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
        ap_rputs("<hr>\n<h2>OCSP stapling (mod_staple_guard)</h2>\n", r);
        sgh_status_html_table(r, rows, n);
    }
    return OK;
}

void sgh_status_register_hooks(void)
{
    ap_hook_handler(sgh_status_handler, NULL, NULL, APR_HOOK_MIDDLE);
    APR_OPTIONAL_HOOK(ap, status_hook, sgh_status_hook, NULL, NULL,
                      APR_HOOK_MIDDLE);
}
