/* mod_sg_fetcher.c: run sg_refresh for entries that are due. */
#include <apr_optional.h>
#include <apr_strings.h>

#include <httpd.h>
#include <http_log.h>
#include <mod_watchdog.h>

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

static void sg_fetcher_run(sg_gen_t *g, server_rec *s, apr_pool_t *parent,
                           sg_entry_t *e, int timeout, const char *when)
{
    apr_pool_t *p;
    sg_refresh_result_t res;
    sg_refresh_conf_t conf = g->refresh;

    apr_pool_create(&p, parent);
    conf.timeout = timeout;
    sg_refresh_run(&res, p, e, g->table, &conf, apr_time_now(), sg_random());
    sg_log_refresh(s, p, e, &res, when);
    if (res.reason == SG_R_OK) {
        sg_store_save(g, s, p, e, res.fetch.der, res.fetch.der_len);
    }
    apr_pool_destroy(p);
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
    apr_time_t deadline = now + sg_config_global()->startup;
    int i, left = 0, timeout;

    for (i = 0; i < sg_registry_count(g->reg); i++) {
        sg_entry_t *e = sg_registry_at(g->reg, i);

        if (e->url == NULL) {
            sg_fetcher_mark_no_url(g, e);
            continue;
        }
        if (e->held_next_update > now || e->next_due > now) {
            continue;   /* held, or a retry already planned: not due */
        }
        now = apr_time_now();
        if (now >= deadline) {
            left++;
            continue;
        }
        /* Never let one fetch run past the startup budget. */
        timeout = (int)apr_time_sec(deadline - now + APR_USEC_PER_SEC - 1);
        sg_fetcher_run(g, s, ptemp, e, timeout < g->refresh.timeout
                       ? timeout : g->refresh.timeout, "at startup");
    }
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
    apr_time_t now;
    int i;

    for (i = 0; i < sg_registry_count(g->reg); i++) {
        sg_entry_t *e = sg_registry_at(g->reg, i);

        if (e->url == NULL) {
            continue;
        }
        now = apr_time_now();
        if (sg_refresh_expire(e, g->table, now)) {
            sg_log_expired(g->s, p, e);
        }
        if (e->next_due <= now) {
            sg_fetcher_run(g, g->s, p, e, g->refresh.timeout, "refresh");
        }
        sg_fetcher_warn(g, p, e, apr_time_now());
    }
}

static apr_status_t sg_fetcher_watchdog(int state, void *data, apr_pool_t *p)
{
    sg_gen_t *g = data;

    if (state == AP_WATCHDOG_STATE_STARTING) {
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
