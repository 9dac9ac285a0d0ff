/* sgh_shared_status.c: the shared cache's section of the status page, in
 * each of its formats. Nothing is printed without StapleGuardSharedCache. */
#include <apr_strings.h>

#include <httpd.h>
#include <http_protocol.h>

#include "sg_text.h"
#include "sgh_shared.h"

/* Keys of the counters, in sgh_shared_counter_t's order. */
static const char *const sgh_shared_keys[SGH_SHARED_COUNT] = {
    "hits", "misses", "refused", "errors", "published"
};

static const char *sgh_shared_state(const sgh_shared_view_t *v)
{
    return !v->in_use ? "unavailable" : v->up ? "up" : "down";
}

static void sgh_shared_html(request_rec *r, const sgh_shared_view_t *v)
{
    int i;

    ap_rprintf(r, "<h2>Shared cache</h2>\n<p>%s %s (prefix %s): <b>%s</b>.",
               ap_escape_html(r->pool, v->conf->name),
               ap_escape_html(r->pool, v->conf->shown),
               ap_escape_html(r->pool, v->conf->prefix), sgh_shared_state(v));
    for (i = 0; i < SGH_SHARED_COUNT; i++) {
        ap_rprintf(r, "%s %s %" APR_UINT64_T_FMT, i ? "," : "",
                   sgh_shared_keys[i], v->counts[i]);
    }
    ap_rputs(".</p>\n", r);
}

static void sgh_shared_json(request_rec *r, const sgh_shared_view_t *v)
{
    int i;

    ap_rprintf(r, "\"shared_cache\":{\"provider\":%s,\"address\":%s,"
               "\"prefix\":%s,\"state\":\"%s\"",
               sg_text_json(r->pool, v->conf->name),
               sg_text_json(r->pool, v->conf->shown),
               sg_text_json(r->pool, v->conf->prefix), sgh_shared_state(v));
    for (i = 0; i < SGH_SHARED_COUNT; i++) {
        ap_rprintf(r, ",\"%s\":%" APR_UINT64_T_FMT, sgh_shared_keys[i],
                   v->counts[i]);
    }
    ap_rputs("},\n", r);
}

static void sgh_shared_auto(request_rec *r, const sgh_shared_view_t *v)
{
    int i;

    ap_rprintf(r, "StapleGuardSharedCache: %s\n", sgh_shared_state(v));
    for (i = 0; i < SGH_SHARED_COUNT; i++) {
        ap_rprintf(r, "StapleGuardSharedCache_%s: %" APR_UINT64_T_FMT "\n",
                   sgh_shared_keys[i], v->counts[i]);
    }
}

static void sgh_shared_metrics(request_rec *r, const sgh_shared_view_t *v)
{
    int i;

    ap_rprintf(r, "# HELP staple_guard_shared_cache_up Whether the last call "
               "to StapleGuardSharedCache worked.\n"
               "# TYPE staple_guard_shared_cache_up gauge\n"
               "staple_guard_shared_cache_up{provider=%s,address=%s} %d\n",
               sg_text_json(r->pool, v->conf->name),
               sg_text_json(r->pool, v->conf->shown), v->in_use && v->up);
    ap_rputs("# HELP staple_guard_shared_cache_total Look-ups and writes of "
             "the shared cache since the last (re)start, by result.\n"
             "# TYPE staple_guard_shared_cache_total counter\n", r);
    for (i = 0; i < SGH_SHARED_COUNT; i++) {
        ap_rprintf(r, "staple_guard_shared_cache_total{result=\"%s\"} %"
                   APR_UINT64_T_FMT "\n", sgh_shared_keys[i], v->counts[i]);
    }
}

void sgh_shared_status(request_rec *r, sgh_shared_format_t f)
{
    sgh_shared_view_t v;

    sgh_shared_view(sgh_gen(), &v);
    if (v.conf == NULL) {
        return;
    }
    switch (f) {
    case SGH_SHARED_JSON:
        sgh_shared_json(r, &v);
        break;
    case SGH_SHARED_AUTO:
        sgh_shared_auto(r, &v);
        break;
    case SGH_SHARED_METRICS:
        sgh_shared_metrics(r, &v);
        break;
    default:
        sgh_shared_html(r, &v);
        break;
    }
}
