/* sg_resolve.h: name resolution and connection within a deadline.
 *
 * getaddrinfo() has no timeout; glibc's own retries can outlast any
 * budget. So a lookup runs in a thread of its own and is waited for only
 * until the deadline; every address is then tried in turn within it. */
#ifndef SG_RESOLVE_H
#define SG_RESOLVE_H

#include <apr_network_io.h>
#include <apr_pools.h>
#include <apr_time.h>

#include "sg_reason.h"

/* Connect to host:port (family: APR_UNSPEC, APR_INET or APR_INET6)
 * before deadline. SG_R_OK and *psock, or SG_R_RESOLVE, SG_R_REFUSED or
 * SG_R_TIMEOUT with *detail saying which name or address failed how. */
sg_reason_t sg_resolve_connect(const char **detail, apr_pool_t *p,
                               const char *host, int port, int family,
                               apr_time_t deadline, apr_socket_t **psock);

#endif
