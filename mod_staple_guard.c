/* mod_staple_guard.c: the module record and the hooks httpd calls.
 *
 * The life of a response: mod_ssl primes each certificate (prime hook);
 * post_config puts every held response in shared memory and fetches the
 * missing ones within a startup budget (mod_sg_fetcher.c); a singleton
 * watchdog refreshes them in the background; handshakes copy them out of
 * shared memory (get hook), never waiting for a responder.
 */
#include <string.h>

#include <apr_shm.h>
#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_ssl.h>
#include <ap_mpm.h>
#include <http_core.h>

#include "mod_staple_guard.h"
#include "mod_sg_carry.h"
#include "mod_sg_config.h"
#include "mod_sg_diagnose.h"
#include "mod_sg_fetcher.h"
#include "mod_sg_log.h"
#include "mod_sg_status.h"
#include "mod_sg_store.h"
#include "mod_sg_warm.h"


static sg_gen_t *sg_current;

sg_gen_t *sg_gen(void)
{
    return sg_current;
}

double sg_random(void)
{
    apr_uint32_t r = 0;

    if (apr_generate_random_bytes((unsigned char *)&r, sizeof(r))
        != APR_SUCCESS) {
        r = (apr_uint32_t)apr_time_now();
    }
    return (double)r / ((double)APR_UINT32_MAX + 1.0);
}

static int sg_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                         apr_pool_t *ptemp)
{
    (void)plog;
    sg_config_reset();
    sg_current = apr_pcalloc(pconf, sizeof(*sg_current));
    sg_current->pool = pconf;
    sg_current->ptemp = ptemp;
    sg_current->reg = sg_registry_create(pconf);
    sg_current->declined = apr_hash_make(pconf);
    return OK;
}

static int sg_check_config(apr_pool_t *pconf, apr_pool_t *plog,
                           apr_pool_t *ptemp, server_rec *s)
{
    const sg_global_conf_t *g = sg_config_global();

    (void)pconf;
    (void)plog;
    (void)ptemp;
    if (g->schedule.retry_min > g->schedule.retry_max) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, "SG0002: "
                     "StapleGuardRetryMin (%" APR_TIME_T_FMT " s) is larger "
                     "than StapleGuardRetryMax (%" APR_TIME_T_FMT " s)",
                     apr_time_sec(g->schedule.retry_min),
                     apr_time_sec(g->schedule.retry_max));
        return !OK;
    }
    return OK;
}

static const char *sg_vhost_name(apr_pool_t *p, server_rec *s)
{
    return apr_psprintf(p, "%s:%u",
                        s->server_hostname ? s->server_hostname : "*",
                        s->addrs ? (unsigned)s->addrs->host_port : 0u);
}

/* The URL a virtual host configured for this certificate; without one,
 * the certificate's own, settled once it is parsed (sg_warm_finish). */
static void sg_ocsp_url_of(server_rec *s, sg_entry_t *e)
{
    const char *url = sg_config_srv(s)->responder_url;

    e->url_configured = (url != NULL);
    e->url = url;
    e->url_source = s->defn_name ? s->defn_name : "the main server";
    e->url_line = s->defn_line_number;
}

/* One certificate, one responder. A StapleGuardResponderURL beats the
 * certificate's own URL; between two, the one written first in the
 * configuration wins (mod_ssl primes virtual hosts in reverse order), and
 * the other is reported. */
static void sg_ocsp_prime_again(sg_gen_t *g, server_rec *s, sg_entry_t *e)
{
    const char *url = sg_config_srv(s)->responder_url;
    int earlier = s->defn_name && e->url_source
                  && strcmp(s->defn_name, e->url_source) == 0
                  && s->defn_line_number < e->url_line;

    if (url == NULL || (e->url != NULL && strcmp(url, e->url) == 0)) {
        return;
    }
    if (!e->url_configured) {
        sg_ocsp_url_of(s, e);
        return;
    }
    /* the subject names it: the rare wait for its parse is worth it */
    sg_warm_wait(g, e);
    ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "SG0006: %s: "
                 "StapleGuardResponderURL %s (%s:%u) and %s (%s:%u) name "
                 "different responders for one certificate; using %s",
                 e->cert ? e->cert->subject : sg_vhost_name(g->ptemp, s),
                 url, s->defn_name ? s->defn_name : "?", s->defn_line_number,
                 e->url, e->url_source, e->url_line, earlier ? url : e->url);
    if (earlier) {
        sg_ocsp_url_of(s, e);
    }
}

/* mod_ssl asks, for every certificate of every SSL virtual host, whether we
 * provide its OCSP responses. We take each one at once; the parsing and
 * validating go to other threads while mod_ssl carries on. */
static int sg_ocsp_prime(server_rec *s, apr_pool_t *p, const char *id,
                         apr_size_t id_len, const char *pem)
{
    sg_gen_t *g = sg_current;
    sg_entry_t *e;

    (void)p;
    if (g == NULL) {
        return DECLINED;
    }
    /* The first pass of `-k start` only checks the configuration; what
     * is primed then is primed again in the real one. */
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return sg_config_enabled(s) ? OK : DECLINED;
    }
    if (!sg_config_enabled(s)) {
        sg_diagnose_declined(g, pem);
        return DECLINED;
    }
    e = sg_registry_get(g->reg, id, id_len);
    if (e == NULL) {
        e = sg_registry_add(g->reg, id, id_len, NULL, NULL);
        sg_ocsp_url_of(s, e);
        sg_registry_add_vhost(e, sg_vhost_name(g->pool, s));
        sg_warm_prime(g, s, e, pem);
    }
    else {
        sg_ocsp_prime_again(g, s, e);
        sg_registry_add_vhost(e, sg_vhost_name(g->pool, s));
    }
    return OK;
}

/* Per handshake, in a worker: copy the response out of shared memory.
 * Never any I/O here. */
static int sg_ocsp_get_resp(server_rec *s, conn_rec *c, const char *id,
                            apr_size_t id_len, ap_ssl_ocsp_copy_resp *cb,
                            void *userdata)
{
    sg_gen_t *g = sg_current;
    sg_entry_t *e;
    unsigned char buf[SG_RESPONSE_MAX];
    apr_size_t len;

    /* s is the virtual host the client named (SNI): a certificate it
     * shares with another host is left alone where StapleGuard is Off. */
    if (g == NULL || g->table == NULL || !sg_config_enabled(s)
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

static apr_status_t sg_table_create(sg_gen_t *g, server_rec *s)
{
    apr_shm_t *shm;
    int n = sg_registry_count(g->reg);
    apr_size_t size = sg_table_size(n);
    apr_status_t rv;

    /* Anonymous shared memory: every child forked from the parent maps it;
     * a new one per generation, so a graceful restart may change sizes. */
    rv = apr_shm_create(&shm, size, NULL, g->pool);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, "SG0003: cannot create "
                     "%" APR_SIZE_T_FMT " bytes of shared memory for %d "
                     "certificates", size, n);
        return rv;
    }
    /* Anonymous shared memory comes zeroed from the kernel: no memset,
     * so that slots never written (most of each) cost no memory. */
    g->table = sg_table_init(apr_shm_baseaddr_get(shm), n);
    return APR_SUCCESS;
}

static int sg_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                          apr_pool_t *ptemp, server_rec *s)
{
    sg_gen_t *g = sg_current;

    (void)plog;
    /* The first pass only checks the configuration: no work, no fetch. */
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    g->s = s;
    sg_warm_finish(g, s);
    if (sg_table_create(g, s) != APR_SUCCESS) {
        return !OK;
    }
    sg_carry_announce(g, s);
    sg_diagnose_unprimed(g, s, ptemp);
    sg_warm_adopt(g, s, ptemp);
    sg_store_prune_unused(g, s, ptemp);
    /* The next generation gets what this one fetched. */
    sg_carry_register(g, s);
    sg_fetcher_prefetch(g, s, ptemp);
    sg_fetcher_start(g, s, pconf);
    return OK;
}

static void sg_register_hooks(apr_pool_t *p)
{
    /* mod_ssl and mod_tls prime certificates in their post_config. */
    static const char *const after_ssl[] = { "mod_ssl.c", "mod_tls.c", NULL };

    (void)p;
    ap_hook_pre_config(sg_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(sg_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    /* Before mod_watchdog's (APR_HOOK_LAST), which starts the instances
     * that exist by then. */
    ap_hook_post_config(sg_post_config, after_ssl, NULL, APR_HOOK_MIDDLE);
    ap_hook_ssl_ocsp_prime_hook(sg_ocsp_prime, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_ssl_ocsp_get_resp_hook(sg_ocsp_get_resp, NULL, NULL,
                                   APR_HOOK_MIDDLE);
    sg_status_register_hooks();
}

AP_DECLARE_MODULE(staple_guard) = {
    STANDARD20_MODULE_STUFF,
    NULL,                       /* per-directory config creator */
    NULL,                       /* dir config merger */
    sg_config_create_srv,       /* server config creator */
    sg_config_merge_srv,        /* server config merger */
    sg_config_cmds,             /* command table */
    sg_register_hooks,
#if defined(AP_MODULE_FLAG_NONE)
    AP_MODULE_FLAG_ALWAYS_MERGE
#endif
};
