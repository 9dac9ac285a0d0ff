/* mod_sg_failcache.c: a socache provider, "sgfail", whose init always
 * fails, for t/36-shared-init.t. Debian's redis and memcache providers
 * neither connect nor resolve in init, so none of them can show what the
 * module does when StapleGuardSharedCache cannot be initialised
 * (SG0073). Every other call fails too; none should be made. */
#include <httpd.h>
#include <http_config.h>
#include <ap_provider.h>
#include <ap_socache.h>

static const char *fc_create(ap_socache_instance_t **inst, const char *arg,
                             apr_pool_t *tmp, apr_pool_t *p)
{
    (void)arg;
    (void)tmp;
    *inst = apr_pcalloc(p, 1);
    return NULL;
}

static apr_status_t fc_init(ap_socache_instance_t *inst, const char *cname,
                            const struct ap_socache_hints *hints,
                            server_rec *s, apr_pool_t *pool)
{
    (void)inst;
    (void)cname;
    (void)hints;
    (void)s;
    (void)pool;
    return APR_ECONNREFUSED;
}

static void fc_destroy(ap_socache_instance_t *inst, server_rec *s)
{
    (void)inst;
    (void)s;
}

static apr_status_t fc_store(ap_socache_instance_t *inst, server_rec *s,
                             const unsigned char *id, unsigned int idlen,
                             apr_time_t expiry, unsigned char *data,
                             unsigned int datalen, apr_pool_t *pool)
{
    (void)inst; (void)s; (void)id; (void)idlen; (void)expiry; (void)data;
    (void)datalen; (void)pool;
    return APR_ECONNREFUSED;
}

static apr_status_t fc_retrieve(ap_socache_instance_t *inst, server_rec *s,
                                const unsigned char *id, unsigned int idlen,
                                unsigned char *data, unsigned int *datalen,
                                apr_pool_t *pool)
{
    (void)inst; (void)s; (void)id; (void)idlen; (void)data; (void)datalen;
    (void)pool;
    return APR_ECONNREFUSED;
}

static apr_status_t fc_remove(ap_socache_instance_t *inst, server_rec *s,
                              const unsigned char *id, unsigned int idlen,
                              apr_pool_t *pool)
{
    (void)inst; (void)s; (void)id; (void)idlen; (void)pool;
    return APR_ECONNREFUSED;
}

static void fc_status(ap_socache_instance_t *inst, request_rec *r, int flags)
{
    (void)inst; (void)r; (void)flags;
}

static apr_status_t fc_iterate(ap_socache_instance_t *inst, server_rec *s,
                               void *userctx, ap_socache_iterator_t *iterator,
                               apr_pool_t *pool)
{
    (void)inst; (void)s; (void)userctx; (void)iterator; (void)pool;
    return APR_ENOTIMPL;
}

static const ap_socache_provider_t fc_provider = {
    "sgfail", 0, fc_create, fc_init, fc_destroy, fc_store, fc_retrieve,
    fc_remove, fc_status, fc_iterate
};

static void fc_register_hooks(apr_pool_t *p)
{
    ap_register_provider(p, AP_SOCACHE_PROVIDER_GROUP, "sgfail",
                         AP_SOCACHE_PROVIDER_VERSION, &fc_provider);
}

AP_DECLARE_MODULE(sg_failcache) = {
    STANDARD20_MODULE_STUFF, NULL, NULL, NULL, NULL, NULL, fc_register_hooks,
#if defined(AP_MODULE_FLAG_NONE)
    AP_MODULE_FLAG_NONE
#endif
};
