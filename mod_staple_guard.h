/* mod_staple_guard.h: what the glue files share. */
#ifndef MOD_STAPLE_GUARD_H
#define MOD_STAPLE_GUARD_H

#include <httpd.h>
#include <http_config.h>

#include "sg_refresh.h"
#include "sg_registry.h"
#include "sg_table.h"

/* The state of one configuration generation (one start or restart). */
typedef struct sg_warm_t sg_warm_t;

typedef struct {
    server_rec *s;
    apr_pool_t *pool;               /* pconf: dies with the generation */
    apr_pool_t *ptemp;              /* this configuration pass's temp pool */
    sg_warm_t *warm;                /* startup work (mod_sg_warm.c) */
    sg_registry_t *reg;
    sg_table_t *table;              /* NULL until post_config made it */
    sg_refresh_conf_t refresh;
    const char *store_dir;          /* NULL: memory only */
    apr_hash_t *declined;           /* cert hashes of StapleGuard Off hosts */
} sg_gen_t;

sg_gen_t *sg_gen(void);

/* A uniform random number in [0, 1), for jitter. */
double sg_random(void);

#endif
