/* sgh_status.c: the operator's view. `SetHandler staple-guard-status`
 * serves HTML, JSON (?json or Accept: application/json), key: value lines
 * (?auto) and Prometheus metrics (?metrics); a section is added to
 * mod_status's server-status page. Every certificate-derived string is
 * escaped for its format. Nothing secret is shown: no keys, no responses.
 *
 * With 10,000 certificates the page must not cost memory in proportion:
 * rows are read from the table one at a time and written out at once
 * (httpd passes the output on in small brigades), with their strings in a
 * pool cleared after each row. Only one byte per certificate is kept for
 * a request: its state, for the HTML's order and filter. The HTML shows
 * one page of rows (?page=N, ?state=<state>); the summary counts all.
 */
#include <limits.h>

#include <apr_atomic.h>
#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_protocol.h>
#include <mod_status.h>

#include "sg_text.h"
#include "sgh_config.h"
#include "sgh_crl.h"
#include "sgh_entry.h"
#include "sgh_msg.h"
#include "sgh_shared.h"
#include "sgh_status.h"

APLOG_USE_MODULE(staple_guard);

#define SGH_STATUS_HANDLER "staple-guard-status"
#define SGH_STATUS_AT_RISK "at risk"
#define SGH_STATUS_AT_RISK_KEY "at_risk"
/* Rows on one HTML page: a page of 10,000 rows is megabytes that no
 * browser shows usefully. */
#define SGH_STATUS_PAGE_ROWS 100

typedef enum {
    SGH_FMT_HTML, SGH_FMT_JSON, SGH_FMT_AUTO, SGH_FMT_METRICS
} sgh_format_t;

/* One certificate as the page shows it: a snapshot taken once. */
typedef struct {
    const sg_entry_t *e;
    sg_slot_info_t info;
    apr_uint64_t stapled;
    apr_uint64_t unstapled;
    sg_state_t shown;       /* the state shown (see sgh_status_row) */
    const char *state;      /* its name */
    int valid;              /* a response is handed out right now */
    int at_risk;            /* Must-Staple, and no staple or soon none */
    apr_int64_t seconds_left;
} sgh_row_t;

/* What a pass over all certificates counts, and, for the HTML, each one's
 * state and risk in a byte (SGH_MARK_*), so that the table is written in
 * its order without keeping rows. */
#define SGH_MARK_STATE 0x0f
#define SGH_MARK_AT_RISK 0x10
typedef struct {
    int n;
    int states[SG_STATE_COUNT];
    int at_risk;
    apr_uint64_t stapled;
    apr_uint64_t unstapled;
    unsigned char *marks;   /* NULL unless asked for */
} sgh_totals_t;

static void sgh_status_row(sgh_row_t *row, sgh_gen_t *g, int i,
                          apr_time_t now)
{
    const sg_entry_t *e = sg_registry_at(g->reg, i);

    row->e = e;
    sg_table_get_info(g->table, e->slot, &row->info);
    sg_table_get_served(g->table, e->slot, &row->stapled, &row->unstapled);
    row->valid = !row->info.crl && row->info.next_update > now
                 && (row->info.state == SG_STATE_GOOD
                     || row->info.state == SG_STATE_REVOKED
                     || row->info.state == SG_STATE_FAILING);
    row->seconds_left = row->valid
                        ? (apr_int64_t)apr_time_sec(row->info.next_update - now)
                        : 0;
    /* The fetcher marks expiry once a second; the page never lags. */
    /* A watched CRL's times are the CRL's, not a staple's. */
    row->shown = (!row->valid && row->info.next_update != 0
                  && row->info.state != SG_STATE_NO_URL && !row->info.crl)
                 ? SG_STATE_EXPIRED : row->info.state;
    row->state = sg_state_name(row->shown);
    /* At risk: Must-Staple, and no staple now, or the responder failing
     * while the one held runs out within StapleGuardWarnBefore. A short
     * validity alone, with refreshes working, is no risk. */
    row->at_risk = e->cert->must_staple
                   && (!row->valid
                       || (row->info.failures > 0
                           && row->info.next_update - now
                              < sgh_config_global()->warn_before));
}

/* Write each certificate's row with fn, one at a time: a row's strings
 * live in p until the next row. */
typedef void (*sgh_row_fn)(request_rec *r, apr_pool_t *p, const sgh_row_t *w,
                           int i, void *ctx);

static void sgh_status_each(request_rec *r, sgh_gen_t *g, sgh_row_fn fn,
                            void *ctx)
{
    apr_time_t now = apr_time_now();
    apr_pool_t *p;
    sgh_row_t w;
    int i;

    apr_pool_create(&p, r->pool);
    for (i = 0; i < sg_registry_count(g->reg); i++) {
        sgh_status_row(&w, g, i, now);
        fn(r, p, &w, i, ctx);
        apr_pool_clear(p);
    }
    apr_pool_destroy(p);
}

static void sgh_status_count_row(request_rec *r, apr_pool_t *p,
                                 const sgh_row_t *w, int i, void *ctx)
{
    sgh_totals_t *tot = ctx;

    (void)r;
    (void)p;
    tot->n++;
    tot->states[w->shown < SG_STATE_COUNT ? w->shown : SG_STATE_NONE]++;
    tot->at_risk += w->at_risk;
    tot->stapled += w->stapled;
    tot->unstapled += w->unstapled;
    if (tot->marks != NULL) {
        tot->marks[i] = (unsigned char)((w->shown & SGH_MARK_STATE)
                                        | (w->at_risk ? SGH_MARK_AT_RISK : 0));
    }
}

/* Counts for the HTML summary, ?auto and the metrics; marks: one byte per
 * certificate too. */
static void sgh_status_totals(sgh_totals_t *tot, request_rec *r, sgh_gen_t *g,
                              int marks)
{
    memset(tot, 0, sizeof(*tot));
    if (marks) {
        tot->marks = apr_pcalloc(r->pool,
                                 (apr_size_t)sg_registry_count(g->reg) + 1);
    }
    sgh_status_each(r, g, sgh_status_count_row, tot);
}

static const char *sgh_h(apr_pool_t *p, const char *s)
{
    return s ? ap_escape_html2(p, s, 1) : "";
}

static const char *sgh_htime(apr_pool_t *p, apr_time_t t)
{
    const char *s = sg_text_time(p, t);

    return s ? s : "-";
}

/* ---- HTML ---- */

/* Which rows the HTML shows: ?state=<key>&page=<n>. */
typedef struct {
    const char *filter;     /* a state's key, SGH_STATUS_AT_RISK_KEY or
                             * NULL for all */
    int page;               /* from 1 */
    int links;              /* on the handler's page, not server-status */
} sgh_view_t;

/* The response's own nextUpdate, as a line below the end shown where it
 * is not that end: the response is older than StapleGuardMaxAge allows
 * by then, or has no nextUpdate ("none"). */
static const char *sgh_status_html_own_next(apr_pool_t *p,
                                            const sg_slot_info_t *info)
{
    if (info->next_update == 0
        || info->response_next_update == info->next_update) {
        return "";
    }
    return apr_pstrcat(p, "nextUpdate ",
                       info->response_next_update
                       ? sgh_htime(p, info->response_next_update) : "none",
                       "<br>", NULL);
}

/* The certificate's OCSP URLs that are never asked (sgh_entry.c), as the
 * log's line about them (SG0012) shows them. */
static void sgh_status_refused_html(request_rec *r, apr_pool_t *p,
                                    const sg_entry_t *e)
{
    const apr_array_header_t *refused = sgh_entry(e)->refused_urls;
    int i;

    for (i = 0; refused != NULL && i < refused->nelts; i++) {
        ap_rvputs(r, "<br>refused, never asked (a character RFC 3986 "
                  "does not allow): ",
                  sgh_h(p, sg_text_log(p, APR_ARRAY_IDX(refused, i,
                                                        const char *))),
                  NULL);
    }
}

/* The responders, in the order they are asked; the one that answered the
 * last attempt is marked when there are several. Written as they come:
 * no string grows with their number. */
static void sgh_status_urls_html(request_rec *r, apr_pool_t *p,
                                 const sgh_row_t *w)
{
    const sg_entry_t *e = w->e;
    int i, n = sg_registry_url_count(e);

    for (i = 0; i < n; i++) {
        ap_rvputs(r, i ? "<br>" : "", sgh_h(p, sg_registry_url_at(e, i)),
                  n > 1 && w->info.last_attempt && i == w->info.url_index
                  ? " (answered)" : "", NULL);
    }
    if (n > 0 && e->proxy != NULL) {
        ap_rvputs(r, "<br>via proxy ", sgh_h(p, e->proxy->shown), NULL);
    }
    if (n == 0) {
        ap_rputs("none", r);
    }
    sgh_status_refused_html(r, p, e);
}

static void sgh_status_html_cert(request_rec *r, apr_pool_t *p,
                                 const sgh_row_t *w)
{
    const sg_entry_t *e = w->e;

    ap_rprintf(r, "<td class=\"cert\"><b>%s</b>%s<br><small>serial %s<br>"
               "issuer %s<br>virtual hosts %s<br>OCSP ",
               sgh_h(p, e->cert->subject),
               e->cert->must_staple ? " <span class=\"b ms\">Must-Staple</span>"
                                    : "",
               sgh_h(p, e->cert->serial), sgh_h(p, e->cert->issuer_name),
               sgh_h(p, apr_array_pstrcat(p, sgh_entry(e)->vhosts, ' ')));
    sgh_status_urls_html(r, p, w);
    ap_rputs("</small></td>", r);
}

/* The state in colour and in words: colour alone says nothing to a
 * reader who cannot tell the colours apart, or to a text browser. */
static void sgh_status_html_state(request_rec *r, apr_pool_t *p,
                                  const sgh_row_t *w)
{
    ap_rprintf(r, "<td><span class=\"b st-%s\">%s</span>%s<br>"
               "<small>response: %s</small>",
               sg_state_key(w->shown), w->state,
               w->at_risk ? " <span class=\"b risk\">" SGH_STATUS_AT_RISK
                            "</span>" : "",
               sg_source_name(w->info.source));
    sgh_crl_html_why(r, p, w->e);
    ap_rputs("</td>", r);
}

/* Details only where there is something to say: a glance at an empty
 * row should not have to read dashes. */
static void sgh_status_html_staple(request_rec *r, apr_pool_t *p,
                                   const sgh_row_t *w)
{
    if (sgh_crl_html_staple(r, p, w->e, &w->info)) {
        /* a watched CRL's dates */
    }
    else if (w->info.next_update == 0) {
        ap_rputs("<td>none</td>", r);
    }
    else {
        ap_rprintf(r, "<td>%s<br><small>%" APR_INT64_T_FMT " s left<br>%s"
                   "thisUpdate %s<br>producedAt %s</small></td>",
                   sgh_htime(p, w->info.next_update), w->seconds_left,
                   sgh_status_html_own_next(p, &w->info),
                   sgh_htime(p, w->info.this_update),
                   sgh_htime(p, w->info.produced_at));
    }
}

static void sgh_status_html_attempt(request_rec *r, apr_pool_t *p,
                                    const sgh_row_t *w)
{
    if (w->info.last_attempt == 0) {
        ap_rprintf(r, "<td>none%s</td>", w->info.next_attempt == 0 ? ""
                   : apr_pstrcat(p, "<br><small>next ",
                                 sgh_htime(p, w->info.next_attempt),
                                 "</small>", NULL));
    }
    else {
        ap_rprintf(r, "<td>%s<br><small>%s (%s), %" APR_TIME_T_FMT " ms<br>"
                   "%d failures in a row<br>next %s</small></td>",
                   sgh_htime(p, w->info.last_attempt),
                   sg_reason_name(w->info.last_result),
                   sg_reason_id(w->info.last_result),
                   apr_time_as_msec(w->info.latency), w->info.failures,
                   sgh_htime(p, w->info.next_attempt));
    }
}

/* The order of the table: what needs attention first (a certificate at
 * risk before all, whatever its state), working ones next, those with
 * nothing to staple last. Within a rank, the configuration's order. */
static const sg_state_t sgh_status_html_order[] = {
    SG_STATE_EXPIRED, SG_STATE_REVOKED, SG_STATE_FAILING,
    SG_STATE_CRL_FAILING, SG_STATE_NONE, SG_STATE_GOOD, SG_STATE_CRL_GOOD,
    SG_STATE_NO_URL
};
#define SGH_HTML_ORDER_N \
    (int)(sizeof(sgh_status_html_order) / sizeof(sgh_status_html_order[0]))
#define SGH_HTML_RANKS (SGH_HTML_ORDER_N + 2)

/* 1 + the state's place in sgh_status_html_order (unknown: last). */
static int sgh_status_html_state_rank(sg_state_t state)
{
    int i, rank = SGH_HTML_ORDER_N + 1;

    for (i = 0; i < SGH_HTML_ORDER_N && rank > SGH_HTML_ORDER_N; i++) {
        if (state == sgh_status_html_order[i]) {
            rank = i + 1;
        }
    }
    return rank;
}

/* 0 for at risk, else its state's rank. */
static int sgh_status_html_rank(unsigned char mark)
{
    return (mark & SGH_MARK_AT_RISK)
           ? 0 : sgh_status_html_state_rank(mark & SGH_MARK_STATE);
}

/* Ranked before good: tinted, so that the eye finds it. */
static int sgh_status_html_attention(const sgh_row_t *w)
{
    return w->at_risk || sgh_status_html_state_rank(w->shown)
                         < sgh_status_html_state_rank(SG_STATE_GOOD);
}

static void sgh_status_html_row(request_rec *r, apr_pool_t *p,
                                const sgh_row_t *w)
{
    ap_rputs(sgh_status_html_attention(w) ? "<tr class=\"attn\">" : "<tr>", r);
    sgh_status_html_cert(r, p, w);
    sgh_status_html_state(r, p, w);
    sgh_status_html_staple(r, p, w);
    sgh_status_html_attempt(r, p, w);
    ap_rprintf(r, "<td>%" APR_UINT64_T_FMT " / %" APR_UINT64_T_FMT
               "</td></tr>\n", w->stapled, w->unstapled);
}

/* Whether a certificate marked so is one the view asks for. */
static int sgh_status_html_wanted(const sgh_view_t *v, unsigned char mark)
{
    if (v->filter == NULL) {
        return 1;
    }
    if (strcmp(v->filter, SGH_STATUS_AT_RISK_KEY) == 0) {
        return (mark & SGH_MARK_AT_RISK) != 0;
    }
    return (mark & SGH_MARK_STATE) < SG_STATE_COUNT
           && strcmp(v->filter, sg_state_key(mark & SGH_MARK_STATE)) == 0;
}

/* Rows first..first+SGH_STATUS_PAGE_ROWS-1 of those the view wants, in
 * the table's order: one look at the marks per rank, and a fresh snapshot
 * of the rows shown. Returns how many the view wants in all. */
static int sgh_status_html_rows(request_rec *r, sgh_gen_t *g,
                                const sgh_totals_t *tot, const sgh_view_t *v,
                                int first)
{
    apr_time_t now = apr_time_now();
    apr_pool_t *p;
    sgh_row_t w;
    int rank, i, k = 0;

    apr_pool_create(&p, r->pool);
    for (rank = 0; rank < SGH_HTML_RANKS; rank++) {
        for (i = 0; i < tot->n; i++) {
            if (sgh_status_html_rank(tot->marks[i]) != rank
                || !sgh_status_html_wanted(v, tot->marks[i])) {
                continue;
            }
            if (k >= first && k < first + SGH_STATUS_PAGE_ROWS) {
                sgh_status_row(&w, g, i, now);
                sgh_status_html_row(r, p, &w);
                apr_pool_clear(p);
            }
            k++;
        }
    }
    apr_pool_destroy(p);
    return k;
}

/* A link to another view of the page (same filter unless given). */
static void sgh_status_html_link(request_rec *r, const char *filter, int page,
                                 const char *text)
{
    ap_rprintf(r, " <a href=\"?%s%s%spage=%d\">%s</a>",
               filter ? "state=" : "", filter ? filter : "",
               filter ? "&amp;" : "", page, text);
}

/* Which rows are shown, of how many, and the way to the others. */
static void sgh_status_html_nav(request_rec *r, const sgh_view_t *v,
                                int first, int shown, int wanted)
{
    int pages = (wanted + SGH_STATUS_PAGE_ROWS - 1) / SGH_STATUS_PAGE_ROWS;

    ap_rprintf(r, "<p class=\"nav\">%s %d&ndash;%d of %d%s%s%s",
               v->filter ? "certificates" : "rows", shown ? first + 1 : 0,
               first + shown, wanted, v->filter ? " (" : "",
               v->filter ? v->filter : "", v->filter ? ")" : "");
    if (v->links && v->page > 1) {
        sgh_status_html_link(r, v->filter, v->page - 1, "previous");
    }
    if (v->links && v->page < pages) {
        sgh_status_html_link(r, v->filter, v->page + 1, "next");
    }
    if (v->links && v->filter != NULL) {
        ap_rputs(" <a href=\"?\">all</a>", r);
    }
    ap_rputs("</p>\n", r);
}

static void sgh_status_html_table(request_rec *r, sgh_gen_t *g,
                                  const sgh_totals_t *tot, const sgh_view_t *v)
{
    int first = (v->page - 1) * SGH_STATUS_PAGE_ROWS, wanted, shown;

    ap_rputs("<table>\n<tr><th>certificate</th><th>state</th>"
             "<th>staple valid until</th><th>last attempt</th>"
             "<th>handshakes stapled / not</th></tr>\n", r);
    wanted = sgh_status_html_rows(r, g, tot, v, first);
    ap_rputs("</table>\n", r);
    shown = wanted - first;
    shown = shown < 0 ? 0 : shown > SGH_STATUS_PAGE_ROWS
                                 ? SGH_STATUS_PAGE_ROWS : shown;
    sgh_status_html_nav(r, v, first, shown, wanted);
}

/* The summary's order: working, in trouble, then nothing to do. At risk
 * is a flag, not a state (SGH_HTML_AT_RISK stands for it here). */
#define SGH_HTML_AT_RISK SG_STATE_COUNT
static const int sgh_status_html_summary_order[] = {
    SG_STATE_GOOD, SG_STATE_FAILING, SG_STATE_EXPIRED, SG_STATE_REVOKED,
    SGH_HTML_AT_RISK, SG_STATE_NO_URL, SG_STATE_NONE, SG_STATE_CRL_GOOD,
    SG_STATE_CRL_FAILING
};
#define SGH_HTML_SUMMARY_N (int)(sizeof(sgh_status_html_summary_order) \
                                 / sizeof(sgh_status_html_summary_order[0]))

/* One line: how many certificates are in each state, of all of them
 * whatever the view; on the handler's page each count leads to those. */
static void sgh_status_html_summary(request_rec *r, const sgh_totals_t *tot,
                                    const sgh_view_t *v)
{
    const char *name, *key, *cls;
    int i, s, c;

    ap_rprintf(r, "<p class=\"sum\"><b>%d certificates:</b> ", tot->n);
    for (i = 0; i < SGH_HTML_SUMMARY_N; i++) {
        s = sgh_status_html_summary_order[i];
        name = s == SGH_HTML_AT_RISK ? SGH_STATUS_AT_RISK : sg_state_name(s);
        key = s == SGH_HTML_AT_RISK ? SGH_STATUS_AT_RISK_KEY
                                    : sg_state_key(s);
        cls = s == SGH_HTML_AT_RISK
              ? "risk" : apr_pstrcat(r->pool, "st-", key, NULL);
        c = s == SGH_HTML_AT_RISK ? tot->at_risk : tot->states[s];
        ap_rprintf(r, "%s<%s class=\"b %s%s\"%s%s%s>%d %s</%s>",
                   i ? ", " : "", v->links ? "a" : "span", cls,
                   c ? "" : " zero", v->links ? " href=\"?state=" : "",
                   v->links ? key : "", v->links ? "\"" : "", c, name,
                   v->links ? "a" : "span");
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
    "font-weight:bold;white-space:nowrap;text-decoration:none}" \
    ".sg .st-good,.sg .st-crl_good{background:#d4edda;color:#155724}" \
    ".sg .st-failing,.sg .st-crl_failing{background:#fff3cd;color:#7a5b00}" \
    ".sg .st-expired,.sg .st-revoked,.sg .risk{background:#c62828;color:#fff}" \
    ".sg .st-no_response_yet{background:#ffe0b2;color:#8a4b08}" \
    ".sg .st-no_OCSP_URL{background:#e2e3e5;color:#383d41}" \
    ".sg .ms{background:#e3e8f8;color:#1a3a8a;font-weight:normal}" \
    ".sg .zero{opacity:.45}" \
    "</style>\n"

/* The summary and the table, in a div the style above applies to. */
static void sgh_status_html_body(request_rec *r, sgh_gen_t *g,
                                 const sgh_view_t *v)
{
    sgh_totals_t tot;

    sgh_status_totals(&tot, r, g, 1);
    ap_rputs("<div class=\"sg\">\n", r);
    sgh_status_html_summary(r, &tot, v);
    sgh_shared_status(r, SGH_SHARED_HTML);
    sgh_status_html_table(r, g, &tot, v);
    ap_rputs("</div>\n", r);
}

static void sgh_status_html(request_rec *r, sgh_gen_t *g, const sgh_view_t *v)
{
    ap_set_content_type(r, "text/html; charset=utf-8");
    ap_rputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
             "<title>OCSP stapling</title>" SGH_HTML_STYLE "</head><body>\n"
             "<h1>OCSP stapling (mod_staple_guard)</h1>\n", r);
    sgh_status_html_body(r, g, v);
    ap_rputs("<p>Times in UTC. Formats: <a href=\"?json\">json</a> "
             "<a href=\"?auto\">auto</a> <a href=\"?metrics\">metrics</a>."
             "</p>\n</body></html>\n", r);
}

/* ---- JSON ---- */

static const char *sgh_jtime(apr_pool_t *p, apr_time_t t)
{
    const char *s = sg_text_time(p, t);

    return s ? apr_pstrcat(p, "\"", s, "\"", NULL) : "null";
}

/* A JSON array of strings, element by element: the responders asked,
 * then those refused (as the log shows them: a CR is the text "\x0d"). */
static void sgh_status_json_urls(request_rec *r, apr_pool_t *p,
                                 const sg_entry_t *e)
{
    const apr_array_header_t *refused = sgh_entry(e)->refused_urls;
    int i;

    ap_rputs("[", r);
    for (i = 0; i < sg_registry_url_count(e); i++) {
        ap_rvputs(r, i ? "," : "", sg_text_json(p, sg_registry_url_at(e, i)),
                  NULL);
    }
    ap_rputs("],\"ocsp_urls_refused\":[", r);
    for (i = 0; refused != NULL && i < refused->nelts; i++) {
        ap_rvputs(r, i ? "," : "",
                  sg_text_json(p, sg_text_log(p, APR_ARRAY_IDX(refused, i,
                                                               const char *))),
                  NULL);
    }
    ap_rputs("]", r);
}

static void sgh_status_json_row(request_rec *r, apr_pool_t *p,
                                const sgh_row_t *w, int i, void *ctx)
{
    const sg_entry_t *e = w->e;
    const apr_array_header_t *vhosts = sgh_entry(e)->vhosts;
    int k;

    (void)ctx;
    ap_rprintf(r, "%s{\"subject\":%s,\"serial\":%s,\"issuer\":%s,"
               "\"sha256\":\"%s\",\"vhosts\":[", i ? ",\n" : "",
               sg_text_json(p, e->cert->subject),
               sg_text_json(p, e->cert->serial),
               sg_text_json(p, e->cert->issuer_name), e->cert->hash);
    for (k = 0; k < vhosts->nelts; k++) {
        ap_rprintf(r, "%s%s", k ? "," : "",
                   sg_text_json(p, APR_ARRAY_IDX(vhosts, k, const char *)));
    }
    ap_rputs("],\"ocsp_urls\":", r);
    sgh_status_json_urls(r, p, e);
    /* the proxy as configured, less its credentials (sg_proxy_t.shown) */
    ap_rprintf(r, ",\"proxy\":%s,\"answered_by\":%s",
               e->proxy ? sg_text_json(p, e->proxy->shown) : "null",
               w->info.last_attempt && !w->info.crl
               ? sg_text_json(p, sg_registry_url_at(e, w->info.url_index))
               : "null");
    ap_rprintf(r, ",\"ocsp_url\":%s,\"must_staple\":%s,\"state\":\"%s\","
               "\"at_risk\":%s,\"this_update\":%s,\"valid_until\":%s,"
               "\"next_update\":%s,\"seconds_left\":%" APR_INT64_T_FMT
               ",\"produced_at\":%s,\"source\":\"%s\",",
               e->url ? sg_text_json(p, e->url) : "null",
               e->cert->must_staple ? "true" : "false", w->state,
               w->at_risk ? "true" : "false", sgh_jtime(p, w->info.this_update),
               sgh_jtime(p, w->info.next_update),
               sgh_jtime(p, w->info.response_next_update), w->seconds_left,
               sgh_jtime(p, w->info.produced_at),
               sg_source_name(w->info.source));
    ap_rprintf(r, "\"last_attempt\":%s,\"last_result\":%s,\"last_result_id\":%s,"
               "\"failures\":%d,\"next_attempt\":%s,\"latency_ms\":%"
               APR_TIME_T_FMT ",\"stapled\":%" APR_UINT64_T_FMT
               ",\"not_stapled\":%" APR_UINT64_T_FMT,
               sgh_jtime(p, w->info.last_attempt),
               w->info.last_attempt
               ? apr_psprintf(p, "\"%s\"", sg_reason_name(w->info.last_result))
               : "null",
               w->info.last_attempt
               ? apr_psprintf(p, "\"%s\"", sg_reason_id(w->info.last_result))
               : "null",
               w->info.failures, sgh_jtime(p, w->info.next_attempt),
               apr_time_as_msec(w->info.latency), w->stapled, w->unstapled);
    sgh_crl_json(r, p, e, &w->info);
    ap_rputs("}", r);
}

static void sgh_status_json(request_rec *r, sgh_gen_t *g)
{
    ap_set_content_type(r, "application/json");
    ap_rprintf(r, "{\"now\":%s,\n", sgh_jtime(r->pool, apr_time_now()));
    sgh_shared_status(r, SGH_SHARED_JSON);
    ap_rputs("\"certificates\":[\n", r);
    sgh_status_each(r, g, sgh_status_json_row, NULL);
    ap_rputs("\n]}\n", r);
}

/* ---- ?auto, in the manner of server-status?auto ---- */

static void sgh_status_auto_row(request_rec *r, apr_pool_t *p,
                                const sgh_row_t *w, int i, void *ctx)
{
    (void)ctx;
    /* One line each; strip anything that could start a new line. */
    ap_rprintf(r, "StapleGuardCert%d: %s state=%s%s%s left=%" APR_INT64_T_FMT "s "
               "failures=%d last=%s stapled=%" APR_UINT64_T_FMT
               " not_stapled=%" APR_UINT64_T_FMT " subject=%s\n",
               i, w->e->cert->hash, sg_state_key(w->shown),
               sgh_crl_auto(p, w->e), w->at_risk ? " at_risk=1" : "",
               w->seconds_left,
               w->info.failures,
               w->info.last_attempt ? sg_reason_name(w->info.last_result)
                                    : "-",
               w->stapled, w->unstapled,
               ap_escape_urlencoded(p, w->e->cert->subject));
}

static void sgh_status_auto(request_rec *r, sgh_gen_t *g)
{
    sgh_totals_t tot;
    int s;

    sgh_status_totals(&tot, r, g, 0);
    ap_rprintf(r, "StapleGuardCertificates: %d\n", tot.n);
    for (s = 0; s < SG_STATE_COUNT; s++) {
        ap_rprintf(r, "StapleGuardState_%s: %d\n", sg_state_key(s),
                   tot.states[s]);
    }
    ap_rprintf(r, "StapleGuardAtRisk: %d\n", tot.at_risk);
    sgh_shared_status(r, SGH_SHARED_AUTO);
    sgh_status_each(r, g, sgh_status_auto_row, NULL);
}

/* ---- Prometheus text format ---- */

static void sgh_status_metrics_states(request_rec *r, const sgh_totals_t *tot)
{
    int s;

    ap_rputs("# HELP staple_guard_certificates Certificates by stapling "
             "state.\n# TYPE staple_guard_certificates gauge\n", r);
    for (s = 0; s < SG_STATE_COUNT; s++) {
        ap_rprintf(r, "staple_guard_certificates{state=\"%s\"} %d\n",
                   sg_state_name(s), tot->states[s]);
    }
    ap_rprintf(r, "# HELP staple_guard_certificates_at_risk Must-Staple "
               "certificates without a staple or close to none.\n"
               "# TYPE staple_guard_certificates_at_risk gauge\n"
               "staple_guard_certificates_at_risk %d\n", tot->at_risk);
}

static void sgh_status_metrics_attempts(request_rec *r, const sg_table_t *t)
{
    int k;

    ap_rputs("# HELP staple_guard_fetch_attempts_total Requests to OCSP "
             "responders, by result.\n"
             "# TYPE staple_guard_fetch_attempts_total counter\n", r);
    for (k = 0; k < SG_R_COUNT; k++) {
        ap_rprintf(r, "staple_guard_fetch_attempts_total{result=\"%s\"} %"
                   APR_UINT64_T_FMT "\n", sg_reason_name(k),
                   sg_table_attempts(t, k));
    }
}

/* The labels that name a certificate in every per-certificate series. */
static const char *sgh_status_metric_cert(apr_pool_t *p, const sgh_row_t *w)
{
    return apr_psprintf(p, "certificate=\"%s\",subject=\"%s\"",
                        w->e->cert->hash,
                        sg_text_label(p, w->e->cert->subject));
}

static void sgh_status_metric_head(request_rec *r, const char *name,
                                   const char *help)
{
    ap_rprintf(r, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

/* Per certificate, for alerts that name it: its state (one series, 1,
 * for the state it is in), whether it is at risk (0 or 1), and the
 * seconds its staple has left. One pass per series: a series' samples
 * stay together, as the format wants. */
static void sgh_status_metric_state(request_rec *r, apr_pool_t *p,
                                    const sgh_row_t *w, int i, void *ctx)
{
    (void)i;
    (void)ctx;
    ap_rprintf(r, "staple_guard_certificate_state{%s,state=\"%s\"%s} 1\n",
               sgh_status_metric_cert(p, w), w->state,
               sgh_crl_label(p, w->e));
}

static void sgh_status_metric_risk(request_rec *r, apr_pool_t *p,
                                   const sgh_row_t *w, int i, void *ctx)
{
    (void)i;
    (void)ctx;
    ap_rprintf(r, "staple_guard_certificate_at_risk{%s} %d\n",
               sgh_status_metric_cert(p, w), w->at_risk);
}

static void sgh_status_metric_left(request_rec *r, apr_pool_t *p,
                                   const sgh_row_t *w, int i, void *ctx)
{
    (void)i;
    (void)ctx;
    ap_rprintf(r, "staple_guard_next_update_seconds{%s} %" APR_INT64_T_FMT
               "\n", sgh_status_metric_cert(p, w), w->seconds_left);
}

static void sgh_status_metrics_certs(request_rec *r, sgh_gen_t *g)
{
    sgh_status_metric_head(r, "staple_guard_certificate_state",
                           "Each certificate's stapling state: 1 for the "
                           "state it is in.");
    sgh_status_each(r, g, sgh_status_metric_state, NULL);
    sgh_status_metric_head(r, "staple_guard_certificate_at_risk",
                           "1 for a Must-Staple certificate without a staple "
                           "or close to none, else 0.");
    sgh_status_each(r, g, sgh_status_metric_risk, NULL);
    sgh_status_metric_head(r, "staple_guard_next_update_seconds",
                           "Seconds until the held response stops being "
                           "stapled: its nextUpdate, or earlier by "
                           "StapleGuardMaxAge (0 when none is valid).");
    sgh_status_each(r, g, sgh_status_metric_left, NULL);
}

static void sgh_status_metrics(request_rec *r, sgh_gen_t *g)
{
    sgh_totals_t tot;

    ap_set_content_type(r, "text/plain; version=0.0.4; charset=utf-8");
    sgh_status_totals(&tot, r, g, 0);
    sgh_status_metrics_states(r, &tot);
    sgh_status_metrics_attempts(r, g->table);
    sgh_status_metrics_certs(r, g);
    sgh_shared_status(r, SGH_SHARED_METRICS);
    ap_rprintf(r, "# HELP staple_guard_handshakes_total Handshakes that "
               "asked for a staple since the last (re)start, by whether one "
               "was sent.\n# TYPE staple_guard_handshakes_total counter\n"
               "staple_guard_handshakes_total{stapled=\"yes\"} %"
               APR_UINT64_T_FMT "\nstaple_guard_handshakes_total"
               "{stapled=\"no\"} %" APR_UINT64_T_FMT "\n", tot.stapled,
               tot.unstapled);
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
/* The header of the module's own that makes a request one no web page
 * of another site can send (see sgh_action_cross_site). */
#define SGH_ACTION_HEADER "X-Staple-Guard-Action"
#define SGH_ACTION_REFRESH "refresh"
/* Of a client's header, shown in a log line or an answer. */
#define SGH_ACTION_SHOWN_MAX 128
/* SG0063 at most once per this many seconds in a child. */
#define SGH_ACTION_REFUSED_EVERY 60

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
        if (e->url != NULL || sgh_crl_watched(e) != NULL) {
            sg_table_request_refresh(g->table, e->slot);
            n++;
        }
    }
    return n;
}

/* A client's header value as a log line or an answer shows it: cut,
 * escaped. */
static const char *sgh_action_shown(apr_pool_t *p, const char *v)
{
    return ap_escape_logitem(p, apr_pstrmemdup(p, v, strnlen(v,
                             SGH_ACTION_SHOWN_MAX)));
}

/* Why a web page of another site may have sent r, or NULL when none can
 * have. A form POST needs no CORS preflight, so the operator's browser
 * would send one for any page it opens. A page can add a header of its
 * own only after a preflight, which this handler never grants (OPTIONS is
 * 405): the module's header proves enough. Without it, the browser must
 * say that the page is this one's own origin (Sec-Fetch-Site:
 * same-origin, Origin: this scheme://Host), and neither may say another.
 * A request that says nothing (`curl -d`) is refused: it is not known to
 * come from the page, and the header costs a script nothing. */
static const char *sgh_action_cross_site(request_rec *r)
{
    const char *mine = apr_table_get(r->headers_in, SGH_ACTION_HEADER);
    const char *site = apr_table_get(r->headers_in, "Sec-Fetch-Site");
    const char *origin = apr_table_get(r->headers_in, "Origin");
    const char *host = apr_table_get(r->headers_in, "Host");
    const char *own = apr_pstrcat(r->pool, ap_http_scheme(r), "://",
                                  host ? host : "", NULL);

    if (mine != NULL && ap_cstr_casecmp(mine, SGH_ACTION_REFRESH) == 0) {
        return NULL;
    }
    if (site != NULL && ap_cstr_casecmp(site, "same-origin") != 0) {
        return apr_psprintf(r->pool, "the browser says another site sent "
                            "it (Sec-Fetch-Site: %s)",
                            sgh_action_shown(r->pool, site));
    }
    if (origin != NULL && (host == NULL
                           || ap_cstr_casecmp(origin, own) != 0)) {
        return apr_psprintf(r->pool, "it comes from another origin "
                            "(Origin: %s, not %s)",
                            sgh_action_shown(r->pool, origin),
                            sgh_action_shown(r->pool, own));
    }
    if (site == NULL && origin == NULL) {
        return "it carries neither " SGH_ACTION_HEADER " nor Origin";
    }
    return NULL;
}

/* SG0063, at most once per SGH_ACTION_REFUSED_EVERY in a child whatever
 * the number of requests (a page could send them in a loop), with the
 * count of those refused since the last line. */
static void sgh_action_refused(request_rec *r, const char *why)
{
    static apr_uint32_t logged, unlogged;      /* seconds; requests */
    apr_uint32_t now = (apr_uint32_t)apr_time_sec(apr_time_now());
    apr_uint32_t last = apr_atomic_read32(&logged);

    if ((last != 0 && now - last < SGH_ACTION_REFUSED_EVERY)
        || apr_atomic_cas32(&logged, now, last) != last) {
        apr_atomic_inc32(&unlogged);
        return;
    }
    sgh_log(SGH_M_ACTION_CROSS_SITE, 0, r->server, 0, "refused an action "
            "from %s at the status page %s: %s; nothing is scheduled (a "
            "script sends %s: %s; %u more refused since the last line)",
            r->useragent_ip,
            sgh_action_shown(r->pool, r->uri), why, SGH_ACTION_HEADER,
            SGH_ACTION_REFRESH, apr_atomic_xchg32(&unlogged, 0));
}

/* POST action=refresh&cert=<id>|all, where StapleGuardStatusActions is On. */
static int sgh_status_action(request_rec *r, sgh_gen_t *g)
{
    apr_array_header_t *form = NULL;
    const char *action, *cert, *why;
    int n, named;

    if (!sgh_config_status_actions(r)) {
        return sgh_action_answer(r, HTTP_FORBIDDEN, 0, "actions are not "
                                 "enabled here (StapleGuardStatusActions)");
    }
    if ((why = sgh_action_cross_site(r)) != NULL) {
        sgh_action_refused(r, why);
        return sgh_action_answer(r, HTTP_FORBIDDEN, 0, apr_pstrcat(r->pool,
                                 "refused: ", why, "; send the header "
                                 SGH_ACTION_HEADER ": " SGH_ACTION_REFRESH,
                                 NULL));
    }
    if (ap_parse_form_data(r, NULL, &form, SGH_ACTION_FIELDS_MAX,
                           SGH_ACTION_FORM_MAX) != OK || form == NULL) {
        return sgh_action_answer(r, HTTP_BAD_REQUEST, 0, "the form could "
                                 "not be read");
    }
    action = sgh_action_field(r, form, "action");
    cert = sgh_action_field(r, form, "cert");
    if (action == NULL || strcmp(action, SGH_ACTION_REFRESH) != 0
        || cert == NULL) {
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

/* The HTML's view from ?state=<key>&page=<n>. Returns 0 when state names
 * no state. */
static int sgh_status_view(sgh_view_t *v, request_rec *r)
{
    char *args = r->args ? apr_pstrdup(r->pool, r->args) : NULL;
    char *pair, *last, *val;
    apr_int64_t page;
    int ok = 1, s;

    memset(v, 0, sizeof(*v));
    v->page = 1;
    v->links = 1;
    for (pair = args ? apr_strtok(args, "&", &last) : NULL; pair != NULL;
         pair = apr_strtok(NULL, "&", &last)) {
        if ((val = strchr(pair, '=')) == NULL) {
            continue;
        }
        *val++ = '\0';
        if (strcmp(pair, "page") == 0) {
            page = apr_strtoi64(val, NULL, 10);
            v->page = page >= 1 && page <= INT_MAX / SGH_STATUS_PAGE_ROWS
                      ? (int)page : 1;
        }
        else if (strcmp(pair, "state") == 0) {
            v->filter = strcmp(val, SGH_STATUS_AT_RISK_KEY) == 0
                        ? SGH_STATUS_AT_RISK_KEY : NULL;
            for (s = 0; s < SG_STATE_COUNT && v->filter == NULL; s++) {
                if (strcmp(val, sg_state_key(s)) == 0) {
                    v->filter = sg_state_key(s);
                }
            }
            ok = ok && v->filter != NULL;
        }
    }
    return ok;
}

static int sgh_status_handler(request_rec *r)
{
    sgh_gen_t *g = sgh_gen();
    sgh_view_t v;

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
    switch (sgh_status_format(r)) {
    case SGH_FMT_JSON:
        sgh_status_json(r, g);
        break;
    case SGH_FMT_AUTO:
        ap_set_content_type(r, "text/plain; charset=utf-8");
        sgh_status_auto(r, g);
        break;
    case SGH_FMT_METRICS:
        sgh_status_metrics(r, g);
        break;
    default:
        if (!sgh_status_view(&v, r)) {
            return HTTP_BAD_REQUEST;
        }
        sgh_status_html(r, g, &v);
        break;
    }
    return OK;
}

/* A section on mod_status's server-status page: the summary and the first
 * page of the table, without links (they would lead to server-status). */
static int sgh_status_hook(request_rec *r, int flags)
{
    sgh_gen_t *g = sgh_gen();
    sgh_view_t v;

    if (g == NULL || g->table == NULL) {
        return OK;
    }
    if (flags & AP_STATUS_SHORT) {
        sgh_status_auto(r, g);
    }
    else {
        memset(&v, 0, sizeof(v));
        v.page = 1;
        ap_rputs("<hr>\n<h2>OCSP stapling (mod_staple_guard)</h2>\n"
                 SGH_HTML_STYLE, r);
        sgh_status_html_body(r, g, &v);
    }
    return OK;
}

void sgh_status_register_hooks(void)
{
    ap_hook_handler(sgh_status_handler, NULL, NULL, APR_HOOK_MIDDLE);
    APR_OPTIONAL_HOOK(ap, status_hook, sgh_status_hook, NULL, NULL,
                      APR_HOOK_MIDDLE);
}
