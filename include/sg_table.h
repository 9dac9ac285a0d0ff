/* sg_table.h: the responses held for all certificates, in one shared
 * memory segment that the fetcher writes and every child reads.
 *
 * One fixed slot per certificate: nothing is ever evicted to make room
 * (a socache could drop a good response under pressure). Readers never
 * lock: each slot is a sequence lock, so a handshake copies the response
 * and retries in the rare case that the fetcher wrote meanwhile. Pages of
 * the segment that are never touched cost no memory.
 */
#ifndef SG_TABLE_H
#define SG_TABLE_H

#include <apr_pools.h>
#include <apr_time.h>

#include "sg_reason.h"

/* Largest response held and fetched. Real responses are 0.5-4 KiB;
 * a responder sending more is broken or hostile. */
#define SG_RESPONSE_MAX 16384

typedef enum {
    SG_STATE_NONE = 0,      /* no response yet */
    SG_STATE_GOOD,
    SG_STATE_REVOKED,
    SG_STATE_EXPIRED,       /* held one passed nextUpdate, none newer */
    SG_STATE_NO_URL,        /* certificate names no responder */
    SG_STATE_FAILING,       /* last attempt failed, good one still held */
    SG_STATE_COUNT
} sg_state_t;

typedef enum {
    SG_SOURCE_NONE = 0,
    SG_SOURCE_FETCHED,
    SG_SOURCE_CARRIED,      /* kept in memory across a graceful restart */
    SG_SOURCE_STORE,        /* loaded from StapleGuardStoreDir */
    SG_SOURCE_SHARED,       /* taken from StapleGuardSharedCache */
    SG_SOURCE_COUNT
} sg_source_t;

/* What the status page shows; written by the fetcher only. */
typedef struct {
    sg_state_t state;
    sg_source_t source;
    int revoked;
    apr_time_t this_update;
    apr_time_t next_update;         /* valid until (sg_verdict_t): handed
                                     * out before this time only */
    apr_time_t response_next_update; /* the response's own nextUpdate, 0
                                     * when it has none */
    apr_time_t produced_at;
    apr_time_t last_attempt;
    sg_reason_t last_result;
    int failures;
    int force_post;             /* asking with POST after an error answer */
    apr_time_t next_attempt;
    apr_interval_time_t latency;
    int url_index;              /* which of the entry's responders
                                 * answered the last attempt */
    unsigned long attempts[SG_R_COUNT];
} sg_slot_info_t;

typedef struct sg_table_t sg_table_t;

const char *sg_state_name(sg_state_t s);
const char *sg_source_name(sg_source_t s);

/* Bytes of shared memory for n slots. */
apr_size_t sg_table_size(int n);

/* Lay out a table over mem (sg_table_size(n) bytes, zeroed). */
sg_table_t *sg_table_init(void *mem, int n);

int sg_table_count(const sg_table_t *t);

/* Replace slot i's response (der may be NULL to drop it) and its info.
 * One writer at a time: the fetcher. */
void sg_table_put(sg_table_t *t, int i, const unsigned char *der,
                  apr_size_t len, const sg_slot_info_t *info);

/* Replace only slot i's info, keeping the response. */
void sg_table_put_info(sg_table_t *t, int i, const sg_slot_info_t *info);

/* Copy slot i's response into buf (SG_RESPONSE_MAX bytes) when one is held
 * whose nextUpdate is after now. Returns its length, or 0. */
apr_size_t sg_table_get(sg_table_t *t, int i, apr_time_t now,
                        unsigned char *buf);

/* Copy slot i's info (consistent snapshot). */
void sg_table_get_info(sg_table_t *t, int i, sg_slot_info_t *info);

/* Handshake counters, bumped lock-free by every child. */
void sg_table_count_served(sg_table_t *t, int i, int stapled);
void sg_table_get_served(sg_table_t *t, int i, apr_uint64_t *stapled,
                         apr_uint64_t *unstapled);

/* Ask the fetcher to fetch slot i at its next look, whatever its schedule
 * and backoff say (the status page's refresh action, in any child). Many
 * requests before the fetcher looks are one. Lock-free. */
void sg_table_request_refresh(sg_table_t *t, int i);

/* Whether a refresh was requested for slot i since the last call; clears
 * the request. The fetcher's side. */
int sg_table_take_refresh(sg_table_t *t, int i);

#endif
