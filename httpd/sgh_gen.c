/* sgh_gen.c: the current generation, and randomness for jitter. */
#include <apr_general.h>
#include <apr_time.h>

#include "sg_workq.h"
#include "sgh_config.h"
#include "sgh_gen.h"

/* Written in pre_config, in httpd's one configuration thread; children
 * inherit it. */
static sgh_gen_t *sgh_current;

sgh_gen_t *sgh_gen_create(apr_pool_t *pconf, apr_pool_t *ptemp)
{
    sgh_gen_t *g = apr_pcalloc(pconf, sizeof(*g));
    apr_pool_t *own = NULL;

    g->pool = pconf;
    /* What the startup work needs for a moment (the PEM of each
     * certificate, the stored files read) gets an allocator of its own,
     * freed when httpd's ptemp is: memory freed into httpd's allocator
     * stays with the parent, and every child it forks, for good (1.7 kB
     * per certificate of parent RSS at 1,000, measured). */
    g->ptemp = sg_workq_pool(&own, ptemp) == APR_SUCCESS ? own : ptemp;
    g->reg = sg_registry_create(pconf);
    g->declined = apr_hash_make(pconf);
    sgh_current = g;
    return g;
}

void sgh_gen_settle(sgh_gen_t *g)
{
    const sgh_global_conf_t *gc = sgh_config_global();

    sg_refresh_conf_init(&g->refresh, sgh_config_timeout_sec(), gc->skew,
                         gc->max_age, gc->no_next_lifetime, &gc->schedule,
                         gc->family);
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
