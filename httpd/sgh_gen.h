/* sgh_gen.h: the state of one configuration generation (one start or
 * graceful restart), which the glue files share. The hook file makes it
 * in pre_config; the others read it. */
#ifndef SGH_GEN_H
#define SGH_GEN_H

#include <apr_hash.h>
#include <apr_tables.h>
#include <apr_pools.h>
#include <apr_proc_mutex.h>

#include <httpd.h>

#include "sg_refresh.h"
#include "sg_registry.h"
#include "sg_table.h"

typedef struct sgh_warm_t sgh_warm_t;
typedef struct sgh_shared_t sgh_shared_t;

typedef struct {
    server_rec *s;                  /* set in post_config */
    apr_pool_t *pool;               /* pconf: dies with the generation */
    apr_pool_t *ptemp;              /* this configuration pass's temp pool:
                                     * an allocator of its own, gone with
                                     * httpd's ptemp */
    sgh_warm_t *warm;               /* startup work (sgh_warm.c) */
    apr_array_header_t *conflicts;  /* found while priming, logged after
                                     * it (sgh_prime.c) */
    sg_registry_t *reg;             /* owners: sgh_entry_t */
    sg_table_t *table;              /* NULL until post_config made it */
    sg_refresh_conf_t refresh;
    const char *store_dir;          /* NULL: memory only */
    apr_hash_t *declined;           /* cert hashes of StapleGuard Off hosts */
    sgh_shared_t *shared;           /* StapleGuardSharedCache in use, or
                                     * NULL (sgh_shared.c) */
    apr_proc_mutex_t *fetcher_lock; /* held by the fetcher's child, or
                                     * NULL (sgh_fetcher.c) */
    int fetcher_role;               /* this process's part in it */
} sgh_gen_t;

/* A new generation, which becomes the current one. */
sgh_gen_t *sgh_gen_create(apr_pool_t *pconf, apr_pool_t *ptemp);

/* Once the configuration is read, before any certificate is primed: the
 * rules this generation's every step judges and plans by. */
void sgh_gen_settle(sgh_gen_t *g);

/* The current generation, or NULL before the first pre_config. */
sgh_gen_t *sgh_gen(void);

/* A uniform random number in [0, 1), for jitter. */
double sgh_random(void);

#endif
