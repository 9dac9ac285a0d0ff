/* sg_resolve.h: name resolution and connection within a deadline.
 *
 * getaddrinfo() has no timeout; glibc's own retries can outlast any
 * budget. So a lookup runs in a thread of its own and is waited for only
 * until the deadline; every address is then tried in turn within it.
 * Lookups left running are bounded per process (SG_RESOLVE_LOOKUPS_MAX). */
#ifndef SG_RESOLVE_H
#define SG_RESOLVE_H

#include <apr_network_io.h>
#include <apr_pools.h>
#include <apr_time.h>

#include "sg_reason.h"

/* Lookups left running in one process at most (each is a thread waiting
 * for getaddrinfo); beyond, a lookup fails at once with
 * SG_R_RESOLVE_BUSY. As many as StapleGuardFetchConcurrency's largest
 * value (64), so a resolver that answers never meets it. */
#define SG_RESOLVE_LOOKUPS_MAX 64

/* Connect to host:port (family: APR_UNSPEC, APR_INET or APR_INET6)
 * before deadline: the name is looked up (an address is taken as it
 * is), then each address tried in turn, each within its share of the
 * time left. SG_R_OK and *psock, a socket in non-blocking mode; or
 * SG_R_RESOLVE, SG_R_RESOLVE_BUSY, SG_R_REFUSED or SG_R_TIMEOUT (also
 * when deadline has passed already) with *detail saying which name or
 * address failed how. */
sg_reason_t sg_resolve_connect(const char **detail, apr_pool_t *p,
                               const char *host, int port, int family,
                               apr_time_t deadline, apr_socket_t **psock);

/* How many lookups of this process are running now (for tests). */
int sg_resolve_lookups_running(void);

#endif
