/* sgh_table.c: shared memory for the generation's table. */
#include <apr_shm.h>

#include <httpd.h>
#include <http_log.h>

#include "sgh_carry.h"
#include "sgh_msg.h"
#include "sgh_table.h"
#include "sgh_warm.h"

APLOG_USE_MODULE(staple_guard);

apr_status_t sgh_table_create(sgh_gen_t *g, server_rec *s)
{
    apr_shm_t *shm;
    const sgh_carry_t *prev = sgh_carry_previous(s);
    int n = sg_registry_count(g->reg);
    apr_size_t arena = sg_table_arena_size(n, sgh_warm_held(g),
                                           sgh_carry_wanted(prev));
    apr_size_t size = sg_table_size(n, arena);
    apr_status_t rv;

    /* Anonymous shared memory: every child forked from the parent maps it;
     * a new one per generation, so a graceful restart may change sizes
     * (and leaves the space of replaced responses behind). */
    rv = apr_shm_create(&shm, size, NULL, g->pool);
    if (rv != APR_SUCCESS) {
        sgh_log(SGH_M_SHM, 0, s, rv, "cannot create %" APR_SIZE_T_FMT
                " bytes of shared memory for %d certificates", size, n);
        return rv;
    }
    /* Anonymous shared memory comes zeroed from the kernel: no memset,
     * so that the arena's unused space costs no memory. */
    g->table = sg_table_init(apr_shm_baseaddr_get(shm), n, arena);
    sgh_carry_counts(prev, g->table);
    return APR_SUCCESS;
}
