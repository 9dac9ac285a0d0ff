/* sgh_gen.c: the current generation, and randomness for jitter. */
#include <apr_general.h>
#include <apr_time.h>

#include "sgh_gen.h"

/* Written in pre_config, in httpd's one configuration thread; children
 * inherit it. */
static sgh_gen_t *sgh_current;

/* Ends the pass's temporary pool, and its allocator with it. */
static apr_status_t sgh_gen_temp_done(void *data)
{
    apr_pool_destroy(data);
    return APR_SUCCESS;
}

sgh_gen_t *sgh_gen_create(apr_pool_t *pconf, apr_pool_t *ptemp)
{
    sgh_gen_t *g = apr_pcalloc(pconf, sizeof(*g));
    apr_allocator_t *a = NULL;

    g->pool = pconf;
    /* What the startup work needs for a moment (the PEM of each
     * certificate, the stored files read) gets an allocator of its own,
     * freed when httpd's ptemp is: memory freed into httpd's allocator
     * stays with the parent, and every child it forks, for good (1.7 kB
     * per certificate of parent RSS at 1,000, measured). */
    g->ptemp = ptemp;
    if (apr_allocator_create(&a) == APR_SUCCESS
        && apr_pool_create_unmanaged_ex(&g->ptemp, NULL, a) == APR_SUCCESS) {
        apr_allocator_owner_set(a, g->ptemp);
        apr_pool_cleanup_register(ptemp, g->ptemp, sgh_gen_temp_done,
                                  apr_pool_cleanup_null);
    }
    g->reg = sg_registry_create(pconf);
    g->declined = apr_hash_make(pconf);
    sgh_current = g;
    return g;
}

sgh_gen_t *sgh_gen(void)
{
    return sgh_current;
}

double sgh_random(void)
{
    apr_uint32_t r = 0;

    if (apr_generate_random_bytes((unsigned char *)&r, sizeof(r))
        != APR_SUCCESS) {
        r = (apr_uint32_t)apr_time_now();
    }
    return (double)r / ((double)APR_UINT32_MAX + 1.0);
}
