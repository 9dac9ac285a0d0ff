/* sg_table.h: the responses held for all certificates, in one shared
 * memory segment that the fetcher writes and every child reads.
 *
 * One small fixed slot per certificate (what the status page shows), and
 * the responses themselves in an arena after the slots, each sized to the
 * response it holds: with 10,000 certificates a slot of the largest size
 * each would cost 16 KiB per certificate where a response is 0.5-4 KiB.
 * Nothing is ever evicted to make room (a socache could drop a good
 * response under pressure): when the arena is full, the response held is
 * kept and the next generation's table is made bigger.
 *
 * Readers never lock: each slot is a sequence lock, so a handshake copies
 * the response and retries in the rare case that a writer wrote
 * meanwhile. Writers are one process at a time (the parent while it lays
 * out a generation, then the fetcher's child), any number of its threads:
 * a slot's writers take the slot's own lock, and arena space is taken by
 * moving a mark forward in one atomic step (sg_table.c says who writes
 * what). Space is never given back nor handed to another slot within a
 * generation (a graceful restart makes a new, compact segment). So a
 * reader holding a stale offset copies bytes of its own slot's old space,
 * still mapped, and retries.
 * Pages of the segment that are never touched cost no memory.
 */
#ifndef SG_TABLE_H
#define SG_TABLE_H

#include <apr_errno.h>
#include <apr_pools.h>
#include <apr_time.h>

#include "sg_reason.h"

/* Largest response held and fetched. Real responses are 0.5-4 KiB;
 * a responder sending more is broken or hostile. */
#define SG_RESPONSE_MAX 16384

/* Arena space per certificate beyond the responses known when the table
 * is made: room for the first response of a certificate that has none yet,
 * and for a refresh larger than the one held. Only what is written costs
 * memory; the rest is address space. */
#define SG_TABLE_HEADROOM 4096

/* Smallest arena: a server with a few certificates can still hold the
 * largest responses. */
#define SG_TABLE_ARENA_MIN (4 * (apr_size_t)SG_RESPONSE_MAX)

/* Largest arena: offsets are 32-bit. */
#define SG_TABLE_ARENA_MAX ((apr_size_t)1 << 31)

typedef enum {
    SG_STATE_NONE = 0,      /* no response yet */
    SG_STATE_GOOD,
    SG_STATE_REVOKED,
    SG_STATE_EXPIRED,       /* held one passed nextUpdate, none newer */
    SG_STATE_NO_URL,        /* certificate names no responder */
    SG_STATE_FAILING,       /* last attempt failed, good one still held */
    /* Certificates without a responder whose CRL is watched
     * (src/sg_crl.c); a serial found there is SG_STATE_REVOKED. */
    SG_STATE_CRL_GOOD,      /* not on its issuer's current CRL */
    SG_STATE_CRL_FAILING,   /* the CRL cannot be had or trusted */
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

/* What the status page shows; written by the table's writers only. */
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
    /* From a CRL (crl non-zero): this_update and next_update are the
     * CRL's; when revoked, the entry's date and reason code (RFC 5280
     * CRLReason, -1: none given). Written by sg_crl_record only. */
    int crl;
    apr_time_t revoked_at;
    int revocation_reason;
} sg_slot_info_t;

typedef struct sg_table_t sg_table_t;

const char *sg_state_name(sg_state_t s);
/* The name as a key without spaces ("no_OCSP_URL"): ?auto's keys, the
 * status page's class names and filter. */
const char *sg_state_key(sg_state_t s);
const char *sg_source_name(sg_source_t s);

/* Arena bytes for n certificates when held bytes of responses are known
 * now (loaded from the store, carried over a restart) and the last
 * generation wanted more bytes than it had (sg_table_wanted). */
apr_size_t sg_table_arena_size(int n, apr_size_t held, apr_size_t wanted);

/* Bytes of shared memory for n slots and an arena of arena bytes. */
apr_size_t sg_table_size(int n, apr_size_t arena);

/* Lay out a table over mem (sg_table_size(n, arena) bytes, zeroed). */
sg_table_t *sg_table_init(void *mem, int n, apr_size_t arena);

int sg_table_count(const sg_table_t *t);

/* Writers (see sg_table.c, "who writes"): one process at a time, any
 * number of its threads, each call whole or not at all for the readers.
 *
 * Replace slot i's response (der may be NULL to drop it) and its info.
 * APR_ENOSPC: the response does not fit in the slot's space nor in what
 * is left of the arena; APR_EINVAL: it is longer than SG_RESPONSE_MAX.
 * In both cases the slot is unchanged (the response held stays) and must
 * not be reported as held; ENOSPC's bytes count as wanted. */
apr_status_t sg_table_put(sg_table_t *t, int i, const unsigned char *der,
                          apr_size_t len, const sg_slot_info_t *info);

/* Changes a slot's info in place, under the slot's writer lock: given the
 * info held, it makes the one to hold. It must not block nor call back
 * into the table. */
typedef void sg_table_edit_fn(sg_slot_info_t *info, void *arg);

/* The same as sg_table_put, with the info that edit makes of the one
 * held (nothing written on an error). */
apr_status_t sg_table_put_edit(sg_table_t *t, int i, const unsigned char *der,
                               apr_size_t len, sg_table_edit_fn *edit,
                               void *arg);

/* Replace only slot i's info, keeping the response. */
void sg_table_put_info(sg_table_t *t, int i, const sg_slot_info_t *info);

/* Change only slot i's info, as edit makes it of the one held: a
 * read-modify-write that no other writer's change can slip into. */
void sg_table_edit(sg_table_t *t, int i, sg_table_edit_fn *edit, void *arg);

/* Copy slot i's response into buf (SG_RESPONSE_MAX bytes) when one is held
 * whose nextUpdate is after now. Returns its length, or 0. */
apr_size_t sg_table_get(sg_table_t *t, int i, apr_time_t now,
                        unsigned char *buf);

/* Copy slot i's info (consistent snapshot). */
void sg_table_get_info(sg_table_t *t, int i, sg_slot_info_t *info);

/* Arena bytes taken so far, and its size. */
apr_size_t sg_table_used(const sg_table_t *t);
apr_size_t sg_table_arena(const sg_table_t *t);

/* Bytes of responses that found no room (each slot's latest), for the
 * next generation's sg_table_arena_size. */
apr_size_t sg_table_wanted(const sg_table_t *t);

/* Fetch attempts by result, over all certificates: counted by the
 * fetcher (n at once to carry the count over a restart). One counter per
 * result for the table, not per slot: the metrics show the sums only. */
void sg_table_count_attempts(sg_table_t *t, sg_reason_t r, apr_uint64_t n);
apr_uint64_t sg_table_attempts(const sg_table_t *t, sg_reason_t r);

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
