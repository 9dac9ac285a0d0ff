/* sg_resolve.c: a responder's (or proxy's) name to a connected socket,
 * within a deadline: every address in turn. */
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>

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

/* ---- the bound on lookups left running ----
 *
 * A lookup the fetch stopped waiting for keeps its thread until
 * getaddrinfo() returns, which a resolver or NSS module that hangs never
 * does: each later fetch would leave one more thread behind, in the
 * fetcher's child and in the parent at startup. So at most
 * SG_RESOLVE_LOOKUPS_MAX threads are looking up at once in a process;
 * beyond that a lookup fails at once (SG_R_RESOLVE_BUSY) until some
 * return.
 *
 * The count is one atomic word with the process id beside it: a child
 * forked while the parent had lookups running starts from none (their
 * threads are not in it), without an atfork handler (the module's code
 * is unloaded at a restart, a handler would outlive it) and without a
 * mutex (one held at fork() would stay held in the child). Only the
 * process that took a slot gives it back, so the id part of the word is
 * its own then. */
#define SG_RESOLVE_PID_SHIFT 32
#define SG_RESOLVE_COUNT_MASK 0xffffffffu

static uint64_t sg_resolve_slots;   /* pid << 32 | lookups running */

static int sg_resolve_slot_take(void)
{
    uint64_t pid = (uint32_t)getpid(), old, next;
    uint32_t n;

    old = __atomic_load_n(&sg_resolve_slots, __ATOMIC_ACQUIRE);
    do {
        n = ((old >> SG_RESOLVE_PID_SHIFT) == pid)
            ? (uint32_t)(old & SG_RESOLVE_COUNT_MASK) : 0;
        if (n >= SG_RESOLVE_LOOKUPS_MAX) {
            return 0;
        }
        next = (pid << SG_RESOLVE_PID_SHIFT) | (n + 1);
    } while (!__atomic_compare_exchange_n(&sg_resolve_slots, &old, next, 0,
                                          __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
    return 1;
}

static void sg_resolve_slot_give(void)
{
    __atomic_fetch_sub(&sg_resolve_slots, 1, __ATOMIC_ACQ_REL);
}

int sg_resolve_lookups_running(void)
{
    uint64_t v = __atomic_load_n(&sg_resolve_slots, __ATOMIC_ACQUIRE);

    return ((v >> SG_RESOLVE_PID_SHIFT) == (uint32_t)getpid())
           ? (int)(v & SG_RESOLVE_COUNT_MASK) : 0;
}

/* ---- one lookup ---- */

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
    sg_resolve_slot_give();
    return NULL;
}

/* The hints for host under family. */
static void sg_resolve_hints(struct addrinfo *hints, int family, int numeric)
{
    memset(hints, 0, sizeof(*hints));
    hints->ai_family = family;
    hints->ai_socktype = SOCK_STREAM;
    /* As APR does: only the families this host has an address of, unless
     * StapleGuardAddressFamily chose one (glibc then finds no name at all
     * on a host whose only such address is loopback). */
    hints->ai_flags = (family == AF_UNSPEC) ? AI_ADDRCONFIG : 0;
    if (numeric) {
        hints->ai_flags = AI_NUMERICHOST;
    }
}

/* Start looking host up. NULL with *busy set when SG_RESOLVE_LOOKUPS_MAX
 * are running; NULL alone when not even that worked. */
static sg_resolve_lookup_t *sg_resolve_lookup_start(const char *host, int port,
                                                    int family, int *busy)
{
    sg_resolve_lookup_t *l;
    pthread_attr_t attr;
    pthread_t tid;
    int rc = -1;

    *busy = !sg_resolve_slot_take();
    if (*busy) {
        return NULL;
    }
    l = calloc(1, sizeof(*l));
    if (l == NULL || (l->name = strdup(host)) == NULL) {
        free(l);
        sg_resolve_slot_give();
        return NULL;
    }
    pthread_mutex_init(&l->lock, NULL);
    pthread_cond_init(&l->done_cv, NULL);
    sg_resolve_hints(&l->hints, family, 0);
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
        sg_resolve_slot_give();
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

/* Whether host is an address, not a name: such is never looked up. */
static int sg_resolve_is_numeric(const char *host)
{
    unsigned char buf[sizeof(struct in6_addr)];

    return inet_pton(AF_INET, host, buf) == 1
           || inet_pton(AF_INET6, host, buf) == 1;
}

/* host's addresses from getaddrinfo: at once for a numeric address
 * (parsed without asking anyone, so no thread and no slot), else in a
 * thread of its own waited for until deadline. *late: the deadline came
 * first; *busy: no slot was free. */
static int sg_resolve_lookup(const char *host, int port, int family,
                             apr_time_t deadline, struct addrinfo **result,
                             int *late, int *busy)
{
    struct addrinfo hints;
    sg_resolve_lookup_t *l;
    char service[SG_RESOLVE_SERVICE_MAX];

    *late = *busy = 0;
    *result = NULL;
    if (sg_resolve_is_numeric(host)) {
        snprintf(service, sizeof(service), "%d", port);
        sg_resolve_hints(&hints, family, 1);
        /* an address of another family than the one asked: none */
        return getaddrinfo(host, service, &hints, result) == 0
               ? 0 : EAI_NODATA;
    }
    l = sg_resolve_lookup_start(host, port, family, busy);
    return (l != NULL) ? sg_resolve_lookup_wait(l, deadline, result, late)
                       : EAI_MEMORY;
}

/* host's addresses, as numbers APR parses without asking anyone, in the
 * order the resolver gave them. */
static sg_reason_t sg_resolve_addrs(const char **detail, apr_pool_t *p,
                                    const char *host, int port, int family,
                                    apr_time_t deadline,
                                    apr_array_header_t **addrs)
{
    struct addrinfo *result = NULL, *ai;
    int rc, late, busy;
    char num[NI_MAXHOST];

    *addrs = apr_array_make(p, 4, sizeof(const char *));
    rc = sg_resolve_lookup(host, port, family, deadline, &result, &late,
                           &busy);
    for (ai = result; ai != NULL; ai = ai->ai_next) {
        if (getnameinfo(ai->ai_addr, ai->ai_addrlen, num, sizeof(num),
                        NULL, 0, NI_NUMERICHOST) == 0) {
            APR_ARRAY_PUSH(*addrs, const char *) = apr_pstrdup(p, num);
        }
    }
    if (result != NULL) {
        freeaddrinfo(result);
    }
    if (busy) {
        *detail = apr_psprintf(p, "%s: not looked up: %d lookups of this "
                               "process are still waiting for the resolver",
                               host, SG_RESOLVE_LOOKUPS_MAX);
        return SG_R_RESOLVE_BUSY;
    }
    if ((*addrs)->nelts == 0) {
        *detail = apr_psprintf(p, "%s: %s", host,
                               late ? "name resolution timed out"
                               : (rc == 0 || rc == EAI_NODATA) ? "no address"
                               : gai_strerror(rc));
        return SG_R_RESOLVE;
    }
    return SG_R_OK;
}

/* One address, within its share of what is left of the deadline: the
 * whole of it for the last address, so one that drops every packet
 * cannot use up the time of the next. Never a blocking socket: APR
 * leaves one blocking for a timeout below 0, and then OpenSSL's
 * reads would wait for a silent peer forever; no time left is a
 * timeout. */
static apr_status_t sg_resolve_connect_one(apr_socket_t **psock, apr_pool_t *p,
                                           const char *addr, int port,
                                           apr_time_t deadline, int after)
{
    apr_interval_time_t share = (deadline - apr_time_now()) / (after + 1);
    apr_sockaddr_t *sa;
    apr_socket_t *sock = NULL;
    apr_status_t rv;

    rv = apr_sockaddr_info_get(&sa, addr, APR_UNSPEC, (apr_port_t)port, 0, p);
    if (rv == APR_SUCCESS && share <= 0) {
        rv = APR_TIMEUP;
    }
    if (rv == APR_SUCCESS) {
        rv = apr_socket_create(&sock, sa->family, SOCK_STREAM, APR_PROTO_TCP,
                               p);
    }
    if (rv == APR_SUCCESS) {
        /* A timeout makes APR put the socket in non-blocking mode,
         * which OpenSSL's HTTP client then waits on with its own. */
        rv = apr_socket_timeout_set(sock, share);
    }
    if (rv == APR_SUCCESS) {
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
    if (deadline <= apr_time_now()) {
        *detail = apr_psprintf(p, "%s: no time left to look it up", host);
        return SG_R_TIMEOUT;
    }
    r = sg_resolve_addrs(detail, p, host, port, family, deadline, &addrs);
    if (r != SG_R_OK) {
        return r;
    }
    /* Every address shares the one deadline: the timeout bounds the
     * whole exchange, however many addresses the name has. */
    for (i = 0; i < addrs->nelts && *psock == NULL
                && deadline > apr_time_now(); i++) {
        addr = APR_ARRAY_IDX(addrs, i, const char *);
        rv = sg_resolve_connect_one(psock, p, addr, port, deadline,
                                    addrs->nelts - i - 1);
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
