/* mod_sg_fetcher.c: run sg_refresh for entries that are due. */
#include <apr_optional.h>
#include <apr_strings.h>

#include <httpd.h>
#include <http_log.h>
#include <mod_watchdog.h>

#include "sg_batch.h"
#include "mod_sg_config.h"
#include "mod_sg_fetcher.h"
#include "mod_sg_log.h"
#include "mod_sg_store.h"

APLOG_USE_MODULE(staple_guard);

#define SG_WATCHDOG_NAME "staple-guard"
/* How often the watchdog looks for due work. A look costs a loop over the
 * entries in memory; fetches happen only when due. */
#define SG_WATCHDOG_TICK apr_time_from_sec(1)

static APR_OPTIONAL_FN_TYPE(ap_watchdog_get_instance) *sg_wd_get_instance;
static APR_OPTIONAL_FN_TYPE(ap_watchdog_register_callback) *sg_wd_register;

/* What a batch of fetches shares. */
typedef struct {
    sg_gen_t *g;
    server_rec *s;
    apr_time_t deadline;    /* startup only: no fetch may run past it */
    const char *when;
} sg_fetcher_ctx_t;

/* One fetch, in a batch worker thread with a pool of its own. */
static void sg_fetcher_one(void *data, sg_entry_t *e, apr_pool_t *p)
{
    sg_fetcher_ctx_t *ctx = data;
    sg_gen_t *g = ctx->g;
    sg_refresh_result_t res;
    sg_refresh_conf_t conf = g->refresh;
    apr_time_t now = apr_time_now();
    int left;

    if (ctx->deadline != 0) {
        left = (int)apr_time_sec(ctx->deadline - now + APR_USEC_PER_SEC - 1);
        conf.timeout = (left > 0 && left < conf.timeout) ? left : conf.timeout;
    }
    sg_refresh_run(&res, p, e, g->table, &conf, now, sg_random());
    sg_log_refresh(ctx->s, p, e, &res, ctx->when);
    if (res.reason == SG_R_OK) {
        sg_store_save(g, ctx->s, p, e, res.fetch.der, res.fetch.der_len);
    }
}

static int sg_fetcher_batch(sg_gen_t *g, server_rec *s, apr_pool_t *p,
                            apr_array_header_t *due, apr_time_t deadline,
                            const char *when)
{
    sg_fetcher_ctx_t ctx;
    sg_batch_conf_t bc;

    ctx.g = g;
    ctx.s = s;
    ctx.deadline = deadline;
    ctx.when = when;
    bc.concurrency = sg_config_global()->concurrency;
    bc.per_host = SG_FETCH_PER_HOST;
    bc.deadline = deadline;
    return sg_batch_run(p, (sg_entry_t **)due->elts, due->nelts, &bc,
                        sg_fetcher_one, &ctx);
}

/* Entries without a responder get their state once, and are never asked. */
static void sg_fetcher_mark_no_url(sg_gen_t *g, sg_entry_t *e)
{
    sg_slot_info_t info;

    sg_table_get_info(g->table, e->slot, &info);
    info.state = SG_STATE_NO_URL;
    sg_table_put_info(g->table, e->slot, &info);
}

void sg_fetcher_prefetch(sg_gen_t *g, server_rec *s, apr_pool_t *ptemp)
{
    apr_time_t now = apr_time_now();
    apr_array_header_t *due = apr_array_make(ptemp, 1, sizeof(sg_entry_t *));
    int i, left;

    for (i = 0; i < sg_registry_count(g->reg); i++) {
        sg_entry_t *e = sg_registry_at(g->reg, i);

        if (e->url == NULL) {
            sg_fetcher_mark_no_url(g, e);
        }
        else if (e->held_next_update <= now && e->next_due <= now) {
            /* neither held nor a retry already planned */
            APR_ARRAY_PUSH(due, sg_entry_t *) = e;
        }
    }
    if (due->nelts == 0) {
        return;
    }
    /* Never let startup wait past the budget, nor a fetch run past it. */
    left = sg_fetcher_batch(g, s, ptemp, due,
                            now + sg_config_global()->startup, "at startup");
    if (left > 0) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "SG0040: the startup "
                     "budget (StapleGuardStartupTimeout %" APR_TIME_T_FMT
                     " s) is spent; %d certificates will be fetched in the "
                     "background", apr_time_sec(sg_config_global()->startup),
                     left);
    }
}

/* Once per failing episode: the response held runs out soon. */
static void sg_fetcher_warn(sg_gen_t *g, apr_pool_t *p, sg_entry_t *e,
                            apr_time_t now)
{
    if (e->failures == 0) {
        e->warned = 0;
    }
    else if (!e->warned && e->held_next_update > now
             && e->held_next_update - now < sg_config_global()->warn_before) {
        sg_log_expiring(g->s, p, e, now);
        e->warned = 1;
    }
}

static void sg_fetcher_tick(sg_gen_t *g, apr_pool_t *p)
{
    apr_array_header_t *due = apr_array_make(p, 1, sizeof(sg_entry_t *));
    apr_time_t now = apr_time_now();
    int i;

    for (i = 0; i < sg_registry_count(g->reg); i++) {
        sg_entry_t *e = sg_registry_at(g->reg, i);

        if (e->url == NULL) {
            continue;
        }
        if (sg_refresh_expire(e, g->table, now)) {
            sg_log_expired(g->s, p, e);
        }
        if (e->next_due <= now) {
            APR_ARRAY_PUSH(due, sg_entry_t *) = e;
        }
        sg_fetcher_warn(g, p, e, now);
    }
    if (due->nelts > 0) {
        sg_fetcher_batch(g, g->s, p, due, 0, "refresh");
    }
}

static apr_status_t sg_fetcher_watchdog(int state, void *data, apr_pool_t *p)
{
    sg_gen_t *g = data;

    if (state == AP_WATCHDOG_STATE_STARTING) {
        int i;

        for (i = 0; i < sg_registry_count(g->reg); i++) {
            sg_refresh_resume(sg_registry_at(g->reg, i), g->table);
        }
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, g->s, "SG0041: background "
                     "fetcher started for %d certificates",
                     sg_registry_count(g->reg));
    }
    else if (state == AP_WATCHDOG_STATE_RUNNING) {
        sg_fetcher_tick(g, p);
    }
    return APR_SUCCESS;
}

void sg_fetcher_start(sg_gen_t *g, server_rec *s, apr_pool_t *pconf)
{
    ap_watchdog_t *wd;
    apr_status_t rv;

    if (sg_registry_count(g->reg) == 0) {
        return;
    }
    sg_wd_get_instance = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_get_instance);
    sg_wd_register = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_register_callback);
    if (sg_wd_get_instance == NULL || sg_wd_register == NULL) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "SG0042: mod_watchdog is "
                     "not available: responses will not be refreshed and "
                     "will expire");
        return;
    }
    /* A singleton child watchdog: exactly one fetcher for the whole server,
     * not one per child process. */
    rv = sg_wd_get_instance(&wd, SG_WATCHDOG_NAME, 0, 1, pconf);
    if (rv == APR_SUCCESS) {
        rv = sg_wd_register(wd, SG_WATCHDOG_TICK, g, sg_fetcher_watchdog);
    }
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, "SG0042: cannot start "
                     "the background fetcher: responses will not be refreshed "
                     "and will expire");
    }
}
