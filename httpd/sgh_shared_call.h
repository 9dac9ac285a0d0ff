/* sgh_shared_call.h: socache calls that never take longer than a timeout.
 *
 * The socache API has no timeout, and its providers bound their calls
 * unevenly: mod_socache_redis by RedisTimeout (5 s by default), while
 * apr_memcache waits for an answer without limit once it is connected (a
 * memcached that was stopped with SIGSTOP, or a link that drops packets,
 * holds the caller forever). So the calls run in one worker thread per
 * process, and the caller waits for it at most the timeout. A call left
 * behind finishes on its own; until it has, the cache counts as not
 * answering and no further call is made.
 */
#ifndef SGH_SHARED_CALL_H
#define SGH_SHARED_CALL_H

#include <ap_socache.h>

/* Where calls go. Each process makes an instance of its own with its
 * worker, in the worker's pool, never in a generation's: a pool destroyed
 * while a call left behind holds one of the provider's connections aborts
 * the process (apr_reslist asserts that none is out), and for the parent
 * that is the whole server. */
typedef struct {
    const ap_socache_provider_t *provider;
    const char *args;                   /* for its create() */
    struct ap_socache_hints hints;      /* for its init() */
    server_rec *s;                      /* init() reads its configuration;
                                         * the provider logs with it */
} sgh_shared_target_t;

/* Retrieve id into buf (at most cap bytes; *len is set). Returns the
 * provider's status: APR_NOTFOUND when there is no entry, APR_ENOMEM when
 * it is larger than cap; APR_TIMEUP when no answer came in time or an
 * earlier call still has not answered. */
apr_status_t sgh_shared_call_get(const sgh_shared_target_t *t,
                                 const unsigned char *id, unsigned int idlen,
                                 unsigned char *buf, unsigned int cap,
                                 unsigned int *len,
                                 apr_interval_time_t timeout);

/* Store data under id until expiry (a copy is taken: a call left behind
 * never reads the caller's memory). */
apr_status_t sgh_shared_call_put(const sgh_shared_target_t *t,
                                 const unsigned char *id, unsigned int idlen,
                                 apr_time_t expiry, const unsigned char *data,
                                 unsigned int len,
                                 apr_interval_time_t timeout);

/* End this process's worker (the parent's, when startup is done),
 * cancelling a call left behind; its pool (and the instance) goes only
 * when none was. */
void sgh_shared_call_stop(void);

#endif
