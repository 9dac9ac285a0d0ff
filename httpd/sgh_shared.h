/* sgh_shared.h: verified responses shared between the servers of a fleet
 * through one of httpd's socache providers (StapleGuardSharedCache).
 *
 * The cache is a hint, never a source of trust: what is read from it is
 * validated exactly like a fetched response (sg_refresh_check) and must be
 * newer than what is held; a failing cache costs only the sharing. It is
 * used by the parent at startup and by the fetcher, never in a handshake.
 */
#ifndef SGH_SHARED_H
#define SGH_SHARED_H

#include <ap_socache.h>
#include <http_config.h>

#include "sgh_config.h"
#include "sgh_gen.h"
#include "sgh_shared_key.h"

/* StapleGuardSharedCache, as parsed. */
typedef struct sgh_shared_conf_t {
    const char *name;                   /* the provider: "redis", ... */
    const ap_socache_provider_t *provider;
    const char *args;                   /* what its create() was given */
    const char *shown;                  /* args without credentials */
    const char *prefix;
} sgh_shared_conf_t;

/* The directive's arguments are parsed by sgh_shared_parse
 * (sgh_config.h, which the directive's table calls). */

/* Counters kept in shared memory for the generation. */
typedef enum {
    SGH_SHARED_HITS,            /* a newer valid response taken */
    SGH_SHARED_MISSES,          /* none, or none newer than held */
    SGH_SHARED_REFUSED,         /* an entry that failed validation */
    SGH_SHARED_ERRORS,          /* calls that failed or timed out */
    SGH_SHARED_PUBLISHED,
    SGH_SHARED_COUNT
} sgh_shared_counter_t;

/* What the status page shows of it. */
typedef struct {
    const sgh_shared_conf_t *conf;  /* NULL: no StapleGuardSharedCache */
    int in_use;                     /* initialised (else SG0073 said why) */
    int up;                         /* the last call worked */
    apr_uint64_t counts[SGH_SHARED_COUNT];
} sgh_shared_view_t;

void sgh_shared_view(const sgh_gen_t *g, sgh_shared_view_t *v);

/* What the status formats show (sgh_shared_status.c). */
typedef enum {
    SGH_SHARED_HTML,
    SGH_SHARED_JSON,        /* a "shared_cache": {...}, member */
    SGH_SHARED_AUTO,
    SGH_SHARED_METRICS
} sgh_shared_format_t;

void sgh_shared_status(request_rec *r, sgh_shared_format_t f);

/* post_config, in the parent: initialise the provider and the counters
 * (shared memory, so every child's page shows the fetcher's). Without a
 * StapleGuardSharedCache, or when it cannot be initialised (logged once),
 * g->shared stays NULL and the server works alone. */
void sgh_shared_open(sgh_gen_t *g, server_rec *s);

/* post_config, after the carried and stored responses were taken: look up
 * every certificate that holds nothing valid, within the startup budget,
 * so that a server joining a warm fleet staples its first handshakes
 * without asking a responder. */
void sgh_shared_prime(sgh_gen_t *g, server_rec *s, apr_pool_t *ptemp);

/* The random number for a certificate's next refresh (sgh_random's
 * otherwise). A fleet refreshes a certificate when the first of its
 * servers is due, the earliest of their jittered points: with jitter on
 * both sides (+-10 % of the validity) that comes ever earlier the more
 * servers there are (4 servers: at 45 % on average instead of 50 %, 1.13
 * times the requests of one). Sharing, the jitter is only later: nobody
 * refreshes before StapleGuardRefreshAt, and the spread after it still
 * decides who fetches first. */
double sgh_shared_random(const sgh_gen_t *g);

/* The parent is done with the cache until the next restart: its worker
 * thread ends (a restart unloads the providers' code). */
void sgh_shared_startup_done(sgh_gen_t *g);

/* The fetcher, before asking e's responder: take a response from the
 * cache when it is valid and newer than the one held. Returns non-zero
 * when the responder need not be asked now. */
int sgh_shared_take(sgh_gen_t *g, server_rec *s, apr_pool_t *p,
                    sg_entry_t *e);

/* After a good fetch: publish it until it stops being valid. */
void sgh_shared_publish(sgh_gen_t *g, server_rec *s, apr_pool_t *p,
                        const sg_entry_t *e, const unsigned char *der,
                        apr_size_t len, apr_time_t valid_until);

#endif
