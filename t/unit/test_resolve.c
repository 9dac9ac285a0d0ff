/* test_resolve.c: names to connected sockets within a deadline
 * (sg_resolve_connect): addresses taken as they are, the family asked
 * for, a deadline already passed, a listener that never accepts, and the
 * bound on lookups left running.
 *
 * The resolver is this file's own getaddrinfo(), which the executable's
 * definition puts in front of libc's for libsg.a (and APR): names under
 * TS_DOMAIN are answered here (or never, until released), anything else
 * goes to libc's. A real resolver that never answers: t/19-resolver.t. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE     /* RTLD_NEXT */
#endif
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_network_io.h>
#include <apr_portable.h>
#include <apr_strings.h>

#include "sg_resolve.h"

#define TS_DOMAIN ".sgtest.invalid"
#define TS_DUAL "dual" TS_DOMAIN        /* ::1, then 127.0.0.1 */
#define TS_HANG "hang" TS_DOMAIN        /* no answer until released */
#define TS_DEADLINE apr_time_from_sec(2)
#define TS_SHORT apr_time_from_msec(5)  /* a lookup waited for that long */
#define TS_POLL_MS 10
#define TS_POLL_MAX 500                 /* 5 s for threads to get there */

static apr_pool_t *ts_root;

/* ---- the resolver ---- */

typedef int (*ts_gai_fn)(const char *, const char *, const struct addrinfo *,
                         struct addrinfo **);

static pthread_mutex_t ts_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ts_cv = PTHREAD_COND_INITIALIZER;
static int ts_names;            /* lookups of TS_DOMAIN names begun */
static int ts_hanging;          /* of them, waiting in TS_HANG */
static int ts_released;
static int ts_family;           /* the hint of the last one */

static ts_gai_fn ts_libc(void)
{
    return (ts_gai_fn)dlsym(RTLD_NEXT, "getaddrinfo");
}

/* The numeric address's result from libc, or NULL. */
static struct addrinfo *ts_numeric(const char *addr, const char *service,
                                   const struct addrinfo *hints)
{
    struct addrinfo h = *hints, *res = NULL;

    h.ai_flags = AI_NUMERICHOST;
    return ts_libc()(addr, service, &h, &res) == 0 ? res : NULL;
}

/* TS_DUAL's addresses of the family asked for, in its order. */
static int ts_dual(const char *service, const struct addrinfo *hints,
                   struct addrinfo **res)
{
    struct addrinfo *v6 = NULL, *v4 = NULL, *last;

    if (hints->ai_family != AF_INET) {
        v6 = ts_numeric("::1", service, hints);
    }
    if (hints->ai_family != AF_INET6) {
        v4 = ts_numeric("127.0.0.1", service, hints);
    }
    if (v6 == NULL) {
        *res = v4;
    }
    else {
        for (last = v6; last->ai_next != NULL; last = last->ai_next) {
            ;
        }
        last->ai_next = v4;     /* freeaddrinfo() walks the whole chain */
        *res = v6;
    }
    return *res != NULL ? 0 : EAI_NONAME;
}

int getaddrinfo(const char *node, const char *service,
                const struct addrinfo *hints, struct addrinfo **res)
{
    size_t n = node ? strlen(node) : 0, d = strlen(TS_DOMAIN);
    int hang;

    if (n <= d || strcasecmp(node + n - d, TS_DOMAIN) != 0) {
        return ts_libc()(node, service, hints, res);
    }
    hang = strcasecmp(node, TS_HANG) == 0;
    pthread_mutex_lock(&ts_lock);
    ts_names++;
    ts_family = hints->ai_family;
    ts_hanging += hang;
    pthread_cond_broadcast(&ts_cv);
    while (hang && !ts_released) {
        pthread_cond_wait(&ts_cv, &ts_lock);
    }
    ts_hanging -= hang;
    pthread_mutex_unlock(&ts_lock);
    if (strcasecmp(node, TS_DUAL) == 0) {
        return ts_dual(service, hints, res);
    }
    return EAI_NONAME;
}

static int ts_get(int *v)
{
    int n;

    pthread_mutex_lock(&ts_lock);
    n = *v;
    pthread_mutex_unlock(&ts_lock);
    return n;
}

/* Poll until cond holds, or give up after TS_POLL_MAX tries. */
static int ts_until(int (*cond)(void))
{
    int i;

    for (i = 0; i < TS_POLL_MAX && !cond(); i++) {
        usleep(TS_POLL_MS * 1000);
    }
    return cond();
}

/* ---- listeners ---- */

/* A loopback listener nobody accepts on (the kernel completes
 * handshakes into its backlog); its port in *port. */
static apr_socket_t *ts_listener(apr_pool_t *p, const char *addr, int *port)
{
    apr_sockaddr_t *sa;
    apr_socket_t *s;

    assert_int_equal(apr_sockaddr_info_get(&sa, addr, APR_UNSPEC, 0, 0, p),
                     APR_SUCCESS);
    assert_int_equal(apr_socket_create(&s, sa->family, SOCK_STREAM,
                                       APR_PROTO_TCP, p), APR_SUCCESS);
    assert_int_equal(apr_socket_bind(s, sa), APR_SUCCESS);
    assert_int_equal(apr_socket_listen(s, SOMAXCONN), APR_SUCCESS);
    assert_int_equal(apr_socket_addr_get(&sa, APR_LOCAL, s), APR_SUCCESS);
    *port = sa->port;
    return s;
}

static int ts_nonblocking(apr_socket_t *s)
{
    apr_os_sock_t fd;

    assert_int_equal(apr_os_sock_get(&fd, s), APR_SUCCESS);
    return (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0;
}

static sg_reason_t ts_connect(apr_pool_t *p, const char *host, int port,
                              int family, apr_time_t deadline,
                              const char **detail)
{
    apr_socket_t *s = NULL;
    sg_reason_t r;

    *detail = NULL;
    r = sg_resolve_connect(detail, p, host, port, family, deadline, &s);
    assert_true((r == SG_R_OK) == (s != NULL));
    if (s != NULL) {
        /* a blocking one would let a silent peer hang the fetch */
        assert_true(ts_nonblocking(s));
        apr_socket_close(s);
    }
    else {
        assert_non_null(*detail);
    }
    return r;
}

/* ---- tests ---- */

/* An address is used as it is: nobody is asked, no thread started. */
static void test_numeric(void **state)
{
    apr_pool_t *p;
    const char *detail;
    int port, names = ts_get(&ts_names);

    (void)state;
    apr_pool_create(&p, ts_root);
    (void)ts_listener(p, "127.0.0.1", &port);
    assert_int_equal(ts_connect(p, "127.0.0.1", port, APR_UNSPEC,
                                apr_time_now() + TS_DEADLINE, &detail),
                     SG_R_OK);
    assert_int_equal(ts_connect(p, "127.0.0.1", port, APR_INET,
                                apr_time_now() + TS_DEADLINE, &detail),
                     SG_R_OK);
    /* of another family than the one asked for: none */
    assert_int_equal(ts_connect(p, "127.0.0.1", port, APR_INET6,
                                apr_time_now() + TS_DEADLINE, &detail),
                     SG_R_RESOLVE);
    assert_non_null(strstr(detail, "no address"));
    assert_int_equal(ts_connect(p, "::1", port, APR_INET,
                                apr_time_now() + TS_DEADLINE, &detail),
                     SG_R_RESOLVE);
    assert_int_equal(ts_get(&ts_names), names);
    assert_int_equal(sg_resolve_lookups_running(), 0);
    apr_pool_destroy(p);
}

/* The family asked for goes to the resolver; every address of the name
 * is tried in its order. Only 127.0.0.1 listens. */
static void test_family(void **state)
{
    apr_pool_t *p;
    const char *detail;
    int port;

    (void)state;
    apr_pool_create(&p, ts_root);
    (void)ts_listener(p, "127.0.0.1", &port);
    assert_int_equal(ts_connect(p, TS_DUAL, port, APR_UNSPEC,
                                apr_time_now() + TS_DEADLINE, &detail),
                     SG_R_OK);
    assert_int_equal(ts_get(&ts_family), AF_UNSPEC);
    assert_int_equal(ts_connect(p, TS_DUAL, port, APR_INET,
                                apr_time_now() + TS_DEADLINE, &detail),
                     SG_R_OK);
    assert_int_equal(ts_get(&ts_family), AF_INET);
    /* ::1 only, where nothing listens on that port */
    assert_int_equal(ts_connect(p, TS_DUAL, port, APR_INET6,
                                apr_time_now() + TS_DEADLINE, &detail),
                     SG_R_REFUSED);
    assert_int_equal(ts_get(&ts_family), AF_INET6);
    assert_non_null(strstr(detail, "tried 1 of 1 addresses, the last ::1"));
    /* a name the resolver does not know */
    assert_int_equal(ts_connect(p, "nothing" TS_DOMAIN, port, APR_UNSPEC,
                                apr_time_now() + TS_DEADLINE, &detail),
                     SG_R_RESOLVE);
    assert_non_null(strstr(detail, "nothing" TS_DOMAIN));
    apr_pool_destroy(p);
}

/* No time left is a timeout, before anything is asked or connected. */
static void test_deadline_passed(void **state)
{
    apr_pool_t *p;
    const char *detail;
    int port, names = ts_get(&ts_names);

    (void)state;
    apr_pool_create(&p, ts_root);
    (void)ts_listener(p, "127.0.0.1", &port);
    assert_int_equal(ts_connect(p, TS_DUAL, port, APR_UNSPEC,
                                apr_time_now() - 1, &detail), SG_R_TIMEOUT);
    assert_int_equal(ts_connect(p, "127.0.0.1", port, APR_UNSPEC,
                                apr_time_now(), &detail), SG_R_TIMEOUT);
    assert_non_null(strstr(detail, "no time left"));
    assert_int_equal(ts_get(&ts_names), names);
    apr_pool_destroy(p);
}

/* A listener that never accepts: the kernel completes the connection,
 * within the deadline, and the socket given back does not block (what
 * then reads nothing is test_fetch.c's). */
static void test_never_accepts(void **state)
{
    apr_pool_t *p;
    const char *detail;
    apr_time_t t0 = apr_time_now();
    int port;

    (void)state;
    apr_pool_create(&p, ts_root);
    (void)ts_listener(p, "127.0.0.1", &port);
    assert_int_equal(ts_connect(p, "127.0.0.1", port, APR_UNSPEC,
                                t0 + TS_DEADLINE, &detail), SG_R_OK);
    assert_true(apr_time_now() < t0 + TS_DEADLINE);
    apr_pool_destroy(p);
}

static int ts_all_hanging(void)
{
    return ts_get(&ts_hanging) == SG_RESOLVE_LOOKUPS_MAX;
}

static int ts_none_running(void)
{
    return sg_resolve_lookups_running() == 0;
}

/* Lookups that never return take up their threads; at the bound the next
 * one fails at once with its own reason, and the bound frees up as they
 * return. */
static void test_lookup_bound(void **state)
{
    apr_pool_t *p;
    const char *detail;
    int i, names;

    (void)state;
    apr_pool_create(&p, ts_root);
    for (i = 0; i < SG_RESOLVE_LOOKUPS_MAX; i++) {
        assert_int_equal(ts_connect(p, TS_HANG, 80, APR_UNSPEC,
                                    apr_time_now() + TS_SHORT, &detail),
                         SG_R_RESOLVE);
        assert_non_null(strstr(detail, "timed out"));
    }
    assert_true(ts_until(ts_all_hanging));
    assert_int_equal(sg_resolve_lookups_running(), SG_RESOLVE_LOOKUPS_MAX);
    names = ts_get(&ts_names);
    assert_int_equal(ts_connect(p, TS_DUAL, 80, APR_UNSPEC,
                                apr_time_now() + TS_DEADLINE, &detail),
                     SG_R_RESOLVE_BUSY);
    assert_non_null(strstr(detail, TS_DUAL));
    assert_int_equal(ts_get(&ts_names), names);     /* not even started */
    /* an address needs no lookup, so no slot */
    assert_int_equal(ts_connect(p, "127.0.0.1", 1, APR_UNSPEC,
                                apr_time_now() + TS_DEADLINE, &detail),
                     SG_R_REFUSED);
    pthread_mutex_lock(&ts_lock);
    ts_released = 1;
    pthread_cond_broadcast(&ts_cv);
    pthread_mutex_unlock(&ts_lock);
    assert_true(ts_until(ts_none_running));
    assert_int_equal(ts_connect(p, TS_DUAL, 1, APR_INET,
                                apr_time_now() + TS_DEADLINE, &detail),
                     SG_R_REFUSED);
    apr_pool_destroy(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numeric),
        cmocka_unit_test(test_family),
        cmocka_unit_test(test_deadline_passed),
        cmocka_unit_test(test_never_accepts),
        cmocka_unit_test(test_lookup_bound),
    };
    int rc;

    apr_initialize();
    apr_pool_create(&ts_root, NULL);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_pool_destroy(ts_root);
    apr_terminate();
    return rc;
}
