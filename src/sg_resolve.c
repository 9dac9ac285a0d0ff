/* sg_resolve.c: a responder's (or proxy's) name to a connected socket,
 * within a deadline: every address in turn. */
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "sg_resolve.h"

#define SG_RESOLVE_SERVICE_MAX 8    /* "65535" and its NUL */

/* The name is looked up in a thread, bounded by the fetch's deadline.
 *
 * getaddrinfo() has no timeout, and glibc's own retries (resolv.conf
 * timeout x attempts x nameservers) can outlast any budget. So the name
 * is looked up in a thread of its own while the fetch waits on a
 * condition until its deadline. A lookup still running then is left to
 * finish alone: the request has two references, the fetch's and the
 * thread's, and the last one out frees it.
 *
 * Not glibc's getaddrinfo_a(): it keeps idle helper threads and counts
 * them in globals that fork() copies without the threads. A lookup in an
 * httpd child after one in the parent (startup) was queued for a helper
 * that did not exist there, and never answered (seen in t/10-status.t). */
typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t done_cv;
    int refs;
    int done;
    int rc;                     /* getaddrinfo's */
    struct addrinfo *result;
    struct addrinfo hints;
    char *name;
    char service[SG_RESOLVE_SERVICE_MAX];
} sg_resolve_lookup_t;

static void sg_resolve_lookup_release(sg_resolve_lookup_t *l)
{
    int last;

    pthread_mutex_lock(&l->lock);
    last = (--l->refs == 0);
    pthread_mutex_unlock(&l->lock);
    if (last) {
        if (l->result != NULL) {
            freeaddrinfo(l->result);
        }
        pthread_cond_destroy(&l->done_cv);
        pthread_mutex_destroy(&l->lock);
        free(l->name);
        free(l);
    }
}

static void *sg_resolve_lookup_thread(void *arg)
{
    sg_resolve_lookup_t *l = arg;
    struct addrinfo *result = NULL;
    int rc = getaddrinfo(l->name, l->service, &l->hints, &result);

    pthread_mutex_lock(&l->lock);
    l->rc = rc;
    l->result = result;
    l->done = 1;
    pthread_cond_signal(&l->done_cv);
    pthread_mutex_unlock(&l->lock);
    sg_resolve_lookup_release(l);
    return NULL;
}

/* Start looking host up; NULL when not even that worked. */
static sg_resolve_lookup_t *sg_resolve_lookup_start(const char *host, int port,
                                                int family)
{
    sg_resolve_lookup_t *l = calloc(1, sizeof(*l));
    pthread_attr_t attr;
    pthread_t tid;
    int rc = -1;

    if (l == NULL || (l->name = strdup(host)) == NULL) {
        free(l);
        return NULL;
    }
    pthread_mutex_init(&l->lock, NULL);
    pthread_cond_init(&l->done_cv, NULL);
    l->hints.ai_family = family;
    l->hints.ai_socktype = SOCK_STREAM;
    /* As APR does: only the families this host has an address of, unless
     * StapleGuardAddressFamily chose one (glibc then finds no name at all
     * on a host whose only such address is loopback). */
    l->hints.ai_flags = (family == AF_UNSPEC) ? AI_ADDRCONFIG : 0;
    snprintf(l->service, sizeof(l->service), "%d", port);
    l->refs = 2;
    if (pthread_attr_init(&attr) == 0) {
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        rc = pthread_create(&tid, &attr, sg_resolve_lookup_thread, l);
        pthread_attr_destroy(&attr);
    }
    if (rc != 0) {
        l->refs = 1;            /* no thread holds it */
        sg_resolve_lookup_release(l);
        l = NULL;
    }
    return l;
}

/* Wait for the lookup until deadline; take its result (the caller frees
 * it). Returns getaddrinfo's code, or EAI_AGAIN with *late set when the
 * deadline came first. */
static int sg_resolve_lookup_wait(sg_resolve_lookup_t *l, apr_time_t deadline,
                                struct addrinfo **result, int *late)
{
    struct timespec ts;
    int rc;

    /* apr_time_now() is the realtime clock, the condition's default */
    ts.tv_sec = (time_t)apr_time_sec(deadline);
    ts.tv_nsec = (long)apr_time_usec(deadline) * 1000L;
    pthread_mutex_lock(&l->lock);
    while (!l->done
           && pthread_cond_timedwait(&l->done_cv, &l->lock, &ts) != ETIMEDOUT) {
        ;
    }
    *late = !l->done;
    rc = l->done ? l->rc : EAI_AGAIN;
    *result = l->result;
    l->result = NULL;
    pthread_mutex_unlock(&l->lock);
    sg_resolve_lookup_release(l);
    return rc;
}

/* host's addresses, as numbers APR parses without asking anyone, in the
 * order the resolver gave them. */
static sg_reason_t sg_resolve_addrs(const char **detail, apr_pool_t *p,
                                    const char *host, int port, int family,
                                    apr_time_t deadline,
                                    apr_array_header_t **addrs)
{
    sg_resolve_lookup_t *l = sg_resolve_lookup_start(host, port, family);
    struct addrinfo *result = NULL, *ai;
    int rc = EAI_MEMORY, late = 0;
    char num[NI_MAXHOST];

    *addrs = apr_array_make(p, 4, sizeof(const char *));
    if (l != NULL) {
        rc = sg_resolve_lookup_wait(l, deadline, &result, &late);
    }
    for (ai = result; ai != NULL; ai = ai->ai_next) {
        if (getnameinfo(ai->ai_addr, ai->ai_addrlen, num, sizeof(num),
                        NULL, 0, NI_NUMERICHOST) == 0) {
            APR_ARRAY_PUSH(*addrs, const char *) = apr_pstrdup(p, num);
        }
    }
    if (result != NULL) {
        freeaddrinfo(result);
    }
    if ((*addrs)->nelts == 0) {
        *detail = apr_psprintf(p, "%s: %s", host,
                                   late ? "name resolution timed out"
                                   : rc == 0 ? "no address"
                                   : gai_strerror(rc));
        return SG_R_RESOLVE;
    }
    return SG_R_OK;
}

/* One address, within what is left of the deadline. */
static apr_status_t sg_resolve_connect_one(apr_socket_t **psock, apr_pool_t *p,
                                         const char *addr, int port,
                                         apr_time_t deadline)
{
    apr_sockaddr_t *sa;
    apr_socket_t *sock = NULL;
    apr_status_t rv;

    rv = apr_sockaddr_info_get(&sa, addr, APR_UNSPEC, (apr_port_t)port, 0, p);
    if (rv == APR_SUCCESS) {
        rv = apr_socket_create(&sock, sa->family, SOCK_STREAM, APR_PROTO_TCP,
                               p);
    }
    if (rv == APR_SUCCESS) {
        /* A timeout makes APR put the socket in non-blocking mode,
         * which OpenSSL's HTTP client then waits on with its own. */
        apr_socket_timeout_set(sock, deadline - apr_time_now());
        rv = apr_socket_connect(sock, sa);
    }
    if (rv != APR_SUCCESS && sock != NULL) {
        apr_socket_close(sock);
        sock = NULL;
    }
    *psock = sock;
    return rv;
}

/* Resolve and connect ourselves, so that an operator is told which of
 * the three went wrong: the name, the refusal, or the silence. (OpenSSL's
 * own connect retries a refused connection until its timeout.) */
sg_reason_t sg_resolve_connect(const char **detail, apr_pool_t *p,
                               const char *host, int port, int family,
                               apr_time_t deadline, apr_socket_t **psock)
{
    apr_array_header_t *addrs;
    apr_status_t rv = APR_TIMEUP;
    const char *addr = host;
    sg_reason_t r;
    char err[128];
    int i;

    *psock = NULL;
    r = sg_resolve_addrs(detail, p, host, port, family, deadline, &addrs);
    if (r != SG_R_OK) {
        return r;
    }
    /* Every address shares the one deadline: the timeout bounds the
     * whole exchange, however many addresses the name has. */
    for (i = 0; i < addrs->nelts && *psock == NULL
                && deadline > apr_time_now(); i++) {
        addr = APR_ARRAY_IDX(addrs, i, const char *);
        rv = sg_resolve_connect_one(psock, p, addr, port, deadline);
    }
    if (*psock != NULL) {
        return SG_R_OK;
    }
    /* the last address tried: the one the deadline or the error is for */
    *detail = apr_psprintf(p, "%s port %d (tried %d of %d addresses, "
                               "the last %s): %s", host, port, i, addrs->nelts,
                               addr, apr_strerror(rv, err, sizeof(err)));
    return APR_STATUS_IS_TIMEUP(rv) ? SG_R_TIMEOUT : SG_R_REFUSED;
}
