/* sgh_fetcher.c: run sg_refresh for entries that are due. */
#include <string.h>

#include <apr_optional.h>
#include <apr_strings.h>

#include <httpd.h>
#include <http_log.h>
#include <ap_mpm.h>
#include <mod_watchdog.h>
#include <scoreboard.h>
#include <util_mutex.h>

#include "sg_fetch.h"
#include "sg_workq.h"
#include "sgh_config.h"
#include "sgh_crl.h"
#include "sgh_entry.h"
#include "sgh_event.h"
#include "sgh_fetcher.h"
#include "sgh_log.h"
#include "sgh_msg.h"
#include "sgh_shared.h"
#include "sgh_store.h"

APLOG_USE_MODULE(staple_guard);

#define SGH_WATCHDOG_NAME "staple-guard"
/* The lock that makes one child the fetcher; a `Mutex` directive may name
 * its mechanism. */
#define SGH_FETCHER_MUTEX "staple-guard-fetcher"
/* How often the watchdog looks for due work. A look costs a loop over the
 * entries in memory; fetches happen only when due. */
#define SGH_WATCHDOG_TICK apr_time_from_sec(1)
/* A child's part in fetching (sgh_gen_t.fetcher_role). */
enum {
    SGH_ROLE_NONE = 0,      /* has not seen the lock held */
    SGH_ROLE_WAITING,       /* has: another child is the fetcher */
    SGH_ROLE_TAKEN,         /* took it from that one; starts next tick */
    SGH_ROLE_FETCHING
};
/* Subjects named in one log line; the rest are counted. */
#define SGH_FETCHER_NAMES_MAX 5

static APR_OPTIONAL_FN_TYPE(ap_watchdog_get_instance) *sgh_wd_get_instance;
static APR_OPTIONAL_FN_TYPE(ap_watchdog_register_callback) *sgh_wd_register;

/* What a batch of fetches shares. */
typedef struct {
    sgh_gen_t *g;
    server_rec *s;
    apr_time_t deadline;    /* startup only: no fetch may run past it */
    const char *when;
} sgh_fetcher_ctx_t;

/* A refresh looks in the shared cache first: another server of the fleet
 * may have fetched already. Returns non-zero when the responder need not
 * be asked; a response taken fires the event a fetched one would. */
static int sgh_fetcher_shared(sgh_fetcher_ctx_t *ctx, apr_pool_t *p,
                              sg_entry_t *e, int failed_before)
{
    sg_refresh_result_t res;

    sg_refresh_result_begin(&res, e, ctx->g->table);
    if (!sgh_shared_take(ctx->g, ctx->s, p, e)) {
        return 0;
    }
    sg_refresh_result_end(&res, e, ctx->g->table);
    sgh_event_fire(p, e, sgh_event_of_refresh(&res, failed_before), SG_R_OK);
    return 1;
}

/* One fetch, in a thread of the batch (or the caller), with a pool of its
 * own that goes when it is done: a batch may be thousands long. */
static void sgh_fetcher_one(void *data, void *item, apr_pool_t *keep,
                            apr_pool_t *temp)
{
    sgh_fetcher_ctx_t *ctx = data;
    sgh_gen_t *g = ctx->g;
    sg_entry_t *e = item;
    sg_refresh_result_t res;
    sg_refresh_conf_t conf = g->refresh;
    apr_time_t now = apr_time_now();
    apr_pool_t *p;
    int failed_before = e->failures;

    (void)keep;
    if (apr_pool_create(&p, temp) != APR_SUCCESS) {
        return;
    }
    /* (At startup sgh_shared_prime looked just before.) */
    if (ctx->deadline == 0 && sgh_fetcher_shared(ctx, p, e, failed_before)) {
        apr_pool_destroy(p);
        return;
    }
    conf.deadline = ctx->deadline;
    sg_refresh_run(&res, p, e, g->table, &conf, now, sgh_shared_random(g));
    sgh_log_refresh(ctx->s, p, e, &res, ctx->when);
    sgh_event_fire(p, e, sgh_event_of_refresh(&res, failed_before),
                   res.reason);
    if (res.reason == SG_R_OK) {
        sgh_store_save(g, ctx->s, p, e, res.fetch.der, res.fetch.der_len);
        sgh_shared_publish(g, ctx->s, p, e, res.fetch.der, res.fetch.der_len,
                           res.verdict.next_update);
    }
    apr_pool_destroy(p);
}

/* The same, one after the other in the caller: for when the system
 * refused even a mutex. */
static int sgh_fetcher_serial(sgh_fetcher_ctx_t *ctx, apr_pool_t *p,
                              apr_array_header_t *due, apr_time_t deadline)
{
    int i;

    for (i = 0; i < due->nelts; i++) {
        if (deadline != 0 && apr_time_now() >= deadline) {
            break;
        }
        sgh_fetcher_one(ctx, APR_ARRAY_IDX(due, i, sg_entry_t *), p, p);
    }
    return due->nelts - i;
}

/* Fetch the due entries, at most StapleGuardFetchConcurrency at once (the
 * caller being one) and SGH_FETCH_PER_HOST per responder host. Returns how
 * many were left out at the deadline (0: none). */
static int sgh_fetcher_batch(sgh_gen_t *g, server_rec *s, apr_pool_t *p,
                             apr_array_header_t *due, apr_time_t deadline,
                             const char *when)
{
    sgh_fetcher_ctx_t ctx;
    sg_workq_t *q;
    int conc = sgh_config_global()->concurrency, i;

    ctx.g = g;
    ctx.s = s;
    ctx.deadline = deadline;
    ctx.when = when;
    conc = conc < due->nelts ? conc : due->nelts;
    /* Without threads (the system refused them) the caller does it all. */
    if (sg_workq_create(&q, p, p, conc - 1, NULL, sgh_fetcher_one, &ctx)
        != APR_SUCCESS) {
        return sgh_fetcher_serial(&ctx, p, due, deadline);
    }
    sg_workq_limit(q, SGH_FETCH_PER_HOST, deadline);
    for (i = 0; i < due->nelts; i++) {
        sg_entry_t *e = APR_ARRAY_IDX(due, i, sg_entry_t *);

        sg_workq_push(q, e, sg_fetch_host(p, e->url));
    }
    return sg_workq_finish(q);
}

/* The subjects of the first few entries of a list, for a log line. */
static const char *sgh_fetcher_names(apr_pool_t *p, apr_array_header_t *list)
{
    apr_array_header_t *names = apr_array_make(p, SGH_FETCHER_NAMES_MAX,
                                               sizeof(const char *));
    int i;

    for (i = 0; i < list->nelts && i < SGH_FETCHER_NAMES_MAX; i++) {
        APR_ARRAY_PUSH(names, const char *) =
            APR_ARRAY_IDX(list, i, sg_entry_t *)->cert->subject;
    }
    return apr_pstrcat(p, apr_array_pstrcat(p, names, ';'),
                       list->nelts > i ? "; ..." : "", NULL);
}

/* Only a Must-Staple certificate without a valid response cannot be
 * served safely without a staple: for those alone the start waits, within
 * StapleGuardStartupTimeout. Every other one is left due, and the
 * background fetcher takes it up the moment it starts in a child, so a
 * slow responder holds no site (all of them wait while post_config does:
 * httpd accepts connections but serves none until it returns). */
void sgh_fetcher_prefetch(sgh_gen_t *g, server_rec *s, apr_pool_t *ptemp)
{
    apr_time_t now = apr_time_now();
    apr_array_header_t *due = apr_array_make(ptemp, 1, sizeof(sg_entry_t *));
    int i, left;

    for (i = 0; i < sg_registry_count(g->reg); i++) {
        sg_entry_t *e = sg_registry_at(g->reg, i);

        if (e->url == NULL) {
            /* they get their state once, and are never asked */
            sg_refresh_mark_no_url(e, g->table);
        }
        else if (e->cert->must_staple && e->held_next_update <= now
                 && e->next_due <= now) {
            /* neither held nor a retry already planned */
            APR_ARRAY_PUSH(due, sg_entry_t *) = e;
        }
    }
    if (due->nelts == 0) {
        return;
    }
    /* Never let startup wait past the budget, nor a fetch run past it. */
    left = sgh_fetcher_batch(g, s, ptemp, due,
                             now + sgh_config_global()->startup, "at startup");
    sgh_log(SGH_M_STARTUP_HELD, 0, s, 0, "the start waited %" APR_TIME_T_FMT
            " ms for %d Must-Staple certificates without a valid response "
            "(%s)", apr_time_as_msec(apr_time_now() - now), due->nelts,
            sgh_fetcher_names(ptemp, due));
    if (left > 0) {
        sgh_log(SGH_M_BUDGET_SPENT, 0, s, 0, "the startup budget "
                "(StapleGuardStartupTimeout %" APR_TIME_T_FMT " s) is spent; "
                "%d Must-Staple certificates will be fetched in the "
                "background", apr_time_sec(sgh_config_global()->startup),
                left);
    }
}

/* Once per failing episode: the response held runs out soon. */
static void sgh_fetcher_warn(sgh_gen_t *g, apr_pool_t *p, sg_entry_t *e,
                             apr_time_t now)
{
    sgh_entry_t *he = sgh_entry(e);

    if (e->failures == 0) {
        he->warned = 0;
    }
    else if (!he->warned && e->held_next_update > now
             && e->held_next_update - now
                < sgh_config_global()->warn_before) {
        sgh_log_expiring(g->s, p, e, now);
        he->warned = 1;
        if (e->cert->must_staple) {
            sgh_event_fire(p, e, SGH_EV_AT_RISK, he->last_logged);
        }
    }
}

/* Fetch what is due; returns how many were. */
static int sgh_fetcher_tick(sgh_gen_t *g, apr_pool_t *p)
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
            sgh_log_expired(g->s, p, e);
            sgh_event_fire(p, e, SGH_EV_EXPIRED, sgh_entry(e)->last_logged);
        }
        if (sg_table_take_refresh(g->table, e->slot)) {
            /* asked on the status page: due now, backoff reset once */
            sg_refresh_continue(e, now, 0);
        }
        if (e->next_due <= now) {
            APR_ARRAY_PUSH(due, sg_entry_t *) = e;
        }
        sgh_fetcher_warn(g, p, e, now);
    }
    if (due->nelts > 0) {
        sgh_fetcher_batch(g, g->s, p, due, 0, "refresh");
    }
    sgh_crl_tick(g, p);     /* certificates without a responder */
    return due->nelts;
}

/* The fetcher may start in another child than the last one (which
 * exited): take up each certificate's schedule, and what was logged about
 * it, from the shared table. */
static void sgh_fetcher_resume(sgh_gen_t *g, sg_entry_t *e)
{
    sg_slot_info_t info;

    sg_refresh_resume(e, g->table);
    sg_table_get_info(g->table, e->slot, &info);
    if (info.last_attempt != 0) {
        sgh_entry(e)->last_logged = info.last_result;   /* said already */
    }
}

/* Is this child on its way out? At a graceful restart the MPM signals
 * its children, which then stop; one of them could still take the lock
 * from the old fetcher's child for a moment, beside the new generation's
 * fetcher (seen in t/23-mpms.t). The signal alone does not tell: a prefork
 * child forked just before it runs the parent's handler and never marks
 * itself stopping; the generation the parent now runs does tell, as the
 * MPMs' own loops check. Such a child fetches nothing and takes no lock. */
static int sgh_fetcher_retiring(void)
{
    int state = AP_MPMQ_RUNNING;
    int gen = 0;
    int old = 0;

    if (ap_mpm_query(AP_MPMQ_GENERATION, &gen) == APR_SUCCESS
        && ap_scoreboard_image != NULL) {
        old = gen != ap_scoreboard_image->global->running_generation;
    }
    return old || (ap_mpm_query(AP_MPMQ_MPM_STATE, &state) == APR_SUCCESS
                   && state == AP_MPMQ_STOPPING);
}

/* This child has just become the fetcher: take up the schedules where the
 * last one left them, and fetch what is due at once. */
static void sgh_fetcher_begin(sgh_gen_t *g, apr_pool_t *p)
{
    apr_time_t start = apr_time_now();
    int i;

    sgh_event_start(g);
    for (i = 0; i < sg_registry_count(g->reg); i++) {
        sgh_fetcher_resume(g, sg_registry_at(g->reg, i));
    }
    /* What startup left due is fetched now, not a tick later. */
    i = sgh_fetcher_tick(g, p);
    sgh_log(SGH_M_FETCHER_STARTED, 0, g->s, 0, "background fetcher "
            "started for %d certificates; first round: %d fetched in %"
            APR_TIME_T_FMT " ms", sg_registry_count(g->reg), i,
            apr_time_as_msec(apr_time_now() - start));
}

/* Not the fetcher yet: try to become it. The lock goes with the process
 * that held it, so one child takes it within a tick of the holder's death.
 * That holder may have died because httpd is stopping and this child has
 * not had its signal yet: a child that takes the lock from another starts
 * fetching one tick later, if it is not stopping by then. (mod_watchdog
 * waits ten ticks for a singleton, hence this module's own lock: the
 * fetcher came back 11 s after its child died.) */
static void sgh_fetcher_try(sgh_gen_t *g, apr_pool_t *p)
{
    if (apr_proc_mutex_trylock(g->fetcher_lock) != APR_SUCCESS) {
        g->fetcher_role = SGH_ROLE_WAITING;
    }
    else if (g->fetcher_role == SGH_ROLE_WAITING) {
        g->fetcher_role = SGH_ROLE_TAKEN;
    }
    else {
        g->fetcher_role = SGH_ROLE_FETCHING;
        sgh_fetcher_begin(g, p);
    }
}

/* Every child runs this once a second, in its plain watchdog; the child
 * that holds the generation's lock is the fetcher. p is cleared after each
 * call: nothing of it is kept. */
static apr_status_t sgh_fetcher_watchdog(int state, void *data, apr_pool_t *p)
{
    sgh_gen_t *g = data;

    if (state == AP_WATCHDOG_STATE_STOPPING) {
        if (g->fetcher_role == SGH_ROLE_FETCHING) {
            sgh_event_stop();
        }
        if (g->fetcher_role >= SGH_ROLE_TAKEN) {
            apr_proc_mutex_unlock(g->fetcher_lock);
        }
        g->fetcher_role = SGH_ROLE_NONE;
    }
    else if (g->fetcher_lock == NULL || sgh_fetcher_retiring()) {
        /* no lock in this child (SG0045); or a lock of the old generation,
         * kept until the watchdog stops or the child exits */
    }
    else if (g->fetcher_role == SGH_ROLE_FETCHING) {
        (void)sgh_fetcher_tick(g, p);
    }
    else if (g->fetcher_role == SGH_ROLE_TAKEN) {
        g->fetcher_role = SGH_ROLE_FETCHING;
        sgh_fetcher_begin(g, p);
    }
    else {
        sgh_fetcher_try(g, p);
    }
    /* Anything else would make mod_watchdog stop calling. */
    return APR_SUCCESS;
}

void sgh_fetcher_register(apr_pool_t *pconf)
{
    /* The default mechanism must go with a holder that dies: fcntl and
     * flock locks do, and APR's process-shared pthread mutexes are robust
     * where the system has them (Linux). */
    ap_mutex_register(pconf, SGH_FETCHER_MUTEX, NULL, APR_LOCK_DEFAULT, 0);
}

/* The watchdog instance, and the lock which decides where it fetches. */
static apr_status_t sgh_fetcher_create(sgh_gen_t *g, server_rec *s,
                                       apr_pool_t *pconf)
{
    ap_watchdog_t *wd;
    apr_status_t rv;

    rv = ap_proc_mutex_create(&g->fetcher_lock, NULL, SGH_FETCHER_MUTEX,
                              NULL, s, pconf, 0);
    if (rv == APR_SUCCESS) {
        rv = sgh_wd_get_instance(&wd, SGH_WATCHDOG_NAME, 0, 0, pconf);
    }
    if (rv == APR_SUCCESS) {
        rv = sgh_wd_register(wd, SGH_WATCHDOG_TICK, g, sgh_fetcher_watchdog);
    }
    return rv;
}

void sgh_fetcher_start(sgh_gen_t *g, server_rec *s, apr_pool_t *pconf)
{
    apr_status_t rv;

    if (sg_registry_count(g->reg) == 0) {
        return;
    }
    sgh_wd_get_instance = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_get_instance);
    sgh_wd_register = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_register_callback);
    if (sgh_wd_get_instance == NULL || sgh_wd_register == NULL) {
        sgh_log(SGH_M_NO_WATCHDOG, 0, s, 0, "mod_watchdog is not available: "
                "responses will not be refreshed and will expire");
        return;
    }
    rv = sgh_fetcher_create(g, s, pconf);
    if (rv != APR_SUCCESS) {
        g->fetcher_lock = NULL;
        sgh_log(SGH_M_FETCHER_FAILED, 0, s, rv, "cannot start the "
                "background fetcher: responses will not be refreshed and "
                "will expire");
    }
}

void sgh_fetcher_child_init(sgh_gen_t *g, apr_pool_t *pchild)
{
    apr_status_t rv;

    if (g == NULL || g->fetcher_lock == NULL) {
        return;
    }
    /* Some mechanisms (flock) need their file opened again in the child. */
    rv = apr_proc_mutex_child_init(&g->fetcher_lock,
                                   apr_proc_mutex_lockfile(g->fetcher_lock),
                                   pchild);
    if (rv != APR_SUCCESS) {
        g->fetcher_lock = NULL;
        sgh_log(SGH_M_FETCHER_LOCK, 0, g->s, rv, "this child cannot use "
                "the lock of mutex %s: it will not run the background "
                "fetcher", SGH_FETCHER_MUTEX);
    }
}
