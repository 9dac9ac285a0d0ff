/* mod_staple_guard.c: the module record and the hooks httpd calls.
 *
 * The life of a response: mod_ssl primes each certificate (prime hook,
 * httpd/sgh_prime.c); post_config puts every held response in shared
 * memory and fetches the missing ones within a startup budget
 * (httpd/sgh_fetcher.c); a watchdog in the one child that holds the
 * fetcher's lock refreshes them in the background; handshakes copy them
 * out of shared memory (get hook), never waiting for a responder.
 *
 * Layers: this file calls the glue (httpd/sgh_*), the glue calls the core
 * (src/sg_*, no httpd header); nothing calls back up.
 */
#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_ssl.h>
#include <http_core.h>

#include "sgh_carry.h"
#include "sgh_config.h"
#include "sgh_crl.h"
#include "sgh_diagnose.h"
#include "sgh_entry.h"
#include "sgh_fetcher.h"
#include "sgh_gen.h"
#include "sgh_helper.h"
#include "sgh_msg.h"
#include "sgh_prime.h"
#include "sgh_shared.h"
#include "sgh_status.h"
#include "sgh_store.h"
#include "sgh_table.h"
#include "sgh_warm.h"

/* The first pass of `-k start` only checks the configuration: what is
 * primed then is primed again in the real one, and no work is done. */
static int staple_guard_dry_run(void)
{
    return ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG;
}

/* A startup helper (httpd started afresh by sgh_helper.c, with only this
 * module and StapleGuardStartupHelper) serves its parent as the directive
 * is read, before httpd asks for an MPM (a helper loads none), and never
 * returns. The directive anywhere else refuses the start. */
static const char *staple_guard_helper(pid_t parent)
{
    const char *err = sgh_helper_check(parent);

    if (err != NULL) {
        sgh_log(SGH_M_HELPER_REFUSED, 0, NULL, 0, "%s", err);
        return err;
    }
    sgh_warm_serve(parent);
    return NULL;
}

static int staple_guard_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                                   apr_pool_t *ptemp)
{
    (void)plog;
    sgh_config_reset();
    sgh_gen_create(pconf, ptemp);
    sgh_fetcher_register(pconf);
    return OK;
}

static int staple_guard_check_config(apr_pool_t *pconf, apr_pool_t *plog,
                                     apr_pool_t *ptemp, server_rec *s)
{
    (void)pconf;
    (void)plog;
    (void)ptemp;
    return sgh_config_check(s) == APR_SUCCESS ? OK : !OK;
}

/* mod_ssl asks, for every certificate of every SSL virtual host, whether we
 * provide its OCSP responses. */
static int staple_guard_ocsp_prime(server_rec *s, apr_pool_t *p,
                                   const char *id, apr_size_t id_len,
                                   const char *pem)
{
    sgh_gen_t *g = sgh_gen();

    (void)p;
    if (g == NULL) {
        return DECLINED;
    }
    if (staple_guard_dry_run()) {
        return sgh_config_enabled(s) ? OK : DECLINED;
    }
    return sgh_prime(g, s, id, id_len, pem);
}

/* Per handshake, in a worker: copy the response out of shared memory.
 * Never any I/O here. */
static int staple_guard_ocsp_get_resp(server_rec *s, conn_rec *c,
                                      const char *id, apr_size_t id_len,
                                      ap_ssl_ocsp_copy_resp *cb,
                                      void *userdata)
{
    sgh_gen_t *g = sgh_gen();
    sg_entry_t *e;
    unsigned char buf[SG_RESPONSE_MAX];
    apr_size_t len;

    /* s is the virtual host the client named (SNI): a certificate it
     * shares with another host is left alone where StapleGuard is Off. */
    if (g == NULL || g->table == NULL || !sgh_config_enabled(s)
        || (e = sg_registry_get(g->reg, id, id_len)) == NULL
        || e->slot >= sg_table_count(g->table)) {
        return DECLINED;
    }
    len = sg_table_get(g->table, e->slot, apr_time_now(), buf);
    sg_table_count_served(g->table, e->slot, len > 0);
    if (len == 0) {
        ap_log_cerror(APLOG_MARK, APLOG_TRACE1, 0, c,
                      "no valid OCSP response held for %s",
                      e->cert->subject);
        return DECLINED;
    }
    cb(buf, len, userdata);
    return OK;
}

/* Before mod_ssl primes a certificate: the configuration is read whole
 * by now, and settles the rules of the generation. */
static int staple_guard_post_config_first(apr_pool_t *pconf, apr_pool_t *plog,
                                          apr_pool_t *ptemp, server_rec *s)
{
    (void)pconf;
    (void)plog;
    (void)ptemp;
    (void)s;
    if (sgh_gen() != NULL) {
        sgh_gen_settle(sgh_gen());
    }
    return OK;
}

static int staple_guard_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                                    apr_pool_t *ptemp, server_rec *s)
{
    sgh_gen_t *g = sgh_gen();

    (void)plog;
    if (staple_guard_dry_run()) {
        return OK;
    }
    g->s = s;
    sgh_warm_finish(g, s);
    sgh_prime_finish(g);
    if (sgh_table_create(g, s) != APR_SUCCESS) {
        return !OK;
    }
    sgh_carry_announce(g, s);
    sgh_diagnose_unprimed(g, s, ptemp);
    sgh_shared_open(g, s);
    sgh_warm_adopt(g, s, ptemp);
    sgh_carry_release(s);
    /* what neither memory nor the store held: from the fleet, if any */
    sgh_shared_prime(g, s, ptemp);
    sgh_store_prune_unused(g, s, ptemp);
    /* The next generation gets what this one fetched. */
    sgh_carry_register(g, s);
    sgh_fetcher_prefetch(g, s, ptemp);
    /* after the prefetch marked the certificates without a responder */
    sgh_crl_open(g, s, ptemp);
    sgh_shared_startup_done(g);
    sgh_fetcher_start(g, s, pconf);
    return OK;
}

static void staple_guard_child_init(apr_pool_t *pchild, server_rec *s)
{
    (void)s;
    sgh_fetcher_child_init(sgh_gen(), pchild);
}

static void staple_guard_register_hooks(apr_pool_t *p)
{
    /* mod_ssl and mod_tls prime certificates in their post_config. */
    static const char *const after_ssl[] = { "mod_ssl.c", "mod_tls.c", NULL };
    static const char *const before_watchdog[] = { "mod_watchdog.c", NULL };

    (void)p;
    sgh_config_on_helper(staple_guard_helper);
    ap_hook_pre_config(staple_guard_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(staple_guard_check_config, NULL, NULL,
                         APR_HOOK_MIDDLE);
    ap_hook_post_config(staple_guard_post_config_first, NULL, NULL,
                        APR_HOOK_REALLY_FIRST);
    /* Before mod_watchdog's (APR_HOOK_LAST), which starts the instances
     * that exist by then. */
    ap_hook_post_config(staple_guard_post_config, after_ssl, NULL,
                        APR_HOOK_MIDDLE);
    /* Before mod_watchdog's, which starts the thread that takes the lock. */
    ap_hook_child_init(staple_guard_child_init, NULL, before_watchdog,
                       APR_HOOK_MIDDLE);
    ap_hook_ssl_ocsp_prime_hook(staple_guard_ocsp_prime, NULL, NULL,
                                APR_HOOK_MIDDLE);
    ap_hook_ssl_ocsp_get_resp_hook(staple_guard_ocsp_get_resp, NULL, NULL,
                                   APR_HOOK_MIDDLE);
    sgh_status_register_hooks();
}

AP_DECLARE_MODULE(staple_guard) = {
    STANDARD20_MODULE_STUFF,
    sgh_config_create_dir,      /* per-directory config creator */
    sgh_config_merge_dir,       /* dir config merger */
    sgh_config_create_srv,      /* server config creator */
    sgh_config_merge_srv,       /* server config merger */
    sgh_config_cmds,            /* command table */
    staple_guard_register_hooks,
#if defined(AP_MODULE_FLAG_NONE)
    AP_MODULE_FLAG_ALWAYS_MERGE
#endif
};
