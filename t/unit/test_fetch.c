/* test_fetch.c: the proxy's URL and bypass list, credentials kept out of
 * what is shown, and the outcomes of connecting directly or through a
 * proxy that is not there (loopback ports nobody listens on), and
 * answers given from memory (sg_fetch_run_bio), and from a loopback
 * server of this file's (a peer that never answers; a GET refused, then
 * POST). Answers from real proxies and DNS servers: t/18-proxy.t,
 * t/19-resolver.t. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <apr_general.h>
#include <apr_network_io.h>
#include <apr_strings.h>

#include <openssl/bio.h>

#include "sg_fetch.h"
#include "sg_testpki.h"
#include "sg_url.h"

#define TF_TIMEOUT 2            /* seconds: nothing here should take it */
#define TF_SENT_MAX 4096        /* room for the request the client writes */
#define TF_SERVER_WAIT_MS 5000  /* the server's wait for each connection */
#define TF_SERVER_MAX 2         /* connections it answers */
#define TF_LINE_MAX 512         /* of a request line kept */

static apr_pool_t *tf_root;

static void test_proxy_parse(void **state)
{
    apr_pool_t *p;
    sg_proxy_t *px = NULL;

    (void)state;
    apr_pool_create(&p, tf_root);
    assert_null(sg_proxy_parse(&px, p, "http://sg:pw@proxy.example:3128"));
    assert_string_equal(px->host, "proxy.example");
    assert_int_equal(px->port, 3128);
    assert_string_equal(px->shown, "http://proxy.example:3128");
    assert_string_equal(px->auth, "Basic c2c6cHc=");   /* "sg:pw" */
    assert_int_equal(px->bypass->nelts, 0);
    assert_null(sg_proxy_parse(&px, p, "http://[::1]:8080/"));
    assert_string_equal(px->host, "::1");
    assert_null(px->auth);
    assert_non_null(sg_proxy_parse(&px, p, "https://proxy.example:3128"));
    assert_non_null(sg_proxy_parse(&px, p, "ftp://proxy.example:21"));
    assert_non_null(sg_proxy_parse(&px, p, "http://proxy.example:3128/x"));
    assert_non_null(sg_proxy_parse(&px, p, "http://proxy.example:3128/?a"));
    assert_non_null(sg_proxy_parse(&px, p, "http://proxy.example:99999"));
    /* OpenSSL takes these for port 80 */
    assert_non_null(sg_proxy_parse(&px, p, "http://proxy.example:0"));
    assert_non_null(sg_proxy_parse(&px, p, "http://proxy.example:4294967376"));
    assert_non_null(sg_proxy_parse(&px, p, "http://:3128"));
    apr_pool_destroy(p);
}

static void test_bypass_check(void **state)
{
    apr_pool_t *p;

    (void)state;
    apr_pool_create(&p, tf_root);
    assert_null(sg_proxy_bypass_check(p, "ocsp.ca.example"));
    assert_null(sg_proxy_bypass_check(p, ".internal"));
    assert_null(sg_proxy_bypass_check(p, "10.1.2.3"));
    assert_null(sg_proxy_bypass_check(p, "::1"));
    assert_non_null(sg_proxy_bypass_check(p, "a/b"));
    assert_non_null(sg_proxy_bypass_check(p, "*.example"));
    assert_non_null(sg_proxy_bypass_check(p, "."));
    assert_non_null(sg_proxy_bypass_check(p, ""));
    assert_non_null(sg_proxy_bypass_check(p, ".."));
    assert_non_null(sg_proxy_bypass_check(p, "a..b"));
    assert_non_null(sg_proxy_bypass_check(p, "a."));
    assert_non_null(sg_proxy_bypass_check(p, "-a.example"));
    assert_non_null(sg_proxy_bypass_check(p, "a-.example"));
    assert_non_null(sg_proxy_bypass_check(p, ":"));
    assert_non_null(sg_proxy_bypass_check(p, "1::2::3"));
    assert_null(sg_proxy_bypass_check(p, "a-b.example"));
    apr_pool_destroy(p);
}

/* What OpenSSL's URL parser lets through and no connection can use. */
static void test_url_check(void **state)
{
    (void)state;
    assert_null(sg_url_check_responder("http://ocsp.example"));
    assert_null(sg_url_check_responder("http://u@ocsp.example:1/a:b?c=:d"));
    assert_null(sg_url_check_responder("http://[::1]:65535/"));
    assert_non_null(sg_url_check_responder("https://ocsp.example/"));
    assert_non_null(sg_url_check_responder("ocsp.example"));
    assert_non_null(sg_url_check_responder("http://"));
    assert_non_null(sg_url_check_responder("http://:80/"));
    assert_non_null(sg_url_check_responder("http://[]:80/"));
    assert_non_null(sg_url_check_responder("http://h:0/"));
    assert_non_null(sg_url_check_responder("http://h:00000080/"));
    assert_non_null(sg_url_check_responder("http://h:65536/"));
    assert_non_null(sg_url_check_responder("http://h:4294967376/"));
    assert_non_null(sg_url_check_responder("http://[::1]:0/"));
    assert_non_null(sg_url_check_responder("http://h:/"));
}

static sg_reason_t tf_fetch(apr_pool_t *p, const char *url,
                            const sg_proxy_t *px, const char *bypass,
                            sg_fetch_result_t *res)
{
    static const unsigned char der[] = { 0x30, 0x00 };
    sg_request_t req = { .der = der, .der_len = sizeof(der) };
    sg_fetch_args_t args = { .url = url, .proxy = px, .family = APR_UNSPEC,
                             .req = &req, .force_post = 1,
                             .timeout = TF_TIMEOUT, .max_len = 1024 };
    sg_proxy_t *copy;

    if (px != NULL && bypass != NULL) {
        copy = apr_pmemdup(p, px, sizeof(*copy));
        copy->bypass = apr_array_make(p, 1, sizeof(const char *));
        APR_ARRAY_PUSH(copy->bypass, const char *) = bypass;
        args.proxy = copy;
    }
    return sg_fetch_run(res, p, &args);
}

static void test_outcomes(void **state)
{
    apr_pool_t *p;
    sg_proxy_t *px = NULL;
    sg_fetch_result_t res;
    const char *url;
    int port;

    (void)state;
    apr_pool_create(&p, tf_root);
    port = tp_closed_port(p);
    assert_true(port > 0);
    url = apr_psprintf(p, "http://127.0.0.1:%d/", port);
    assert_int_equal(tf_fetch(p, url, NULL, NULL, &res), SG_R_REFUSED);
    assert_non_null(strstr(res.detail, "127.0.0.1"));
    /* a certificate's URL with port 0: not port 80, as OpenSSL reads it */
    assert_int_equal(tf_fetch(p, "http://127.0.0.1:0/", NULL, NULL, &res),
                     SG_R_BAD_URL);

    assert_null(sg_proxy_parse(&px, p, apr_psprintf(
        p, "http://sg:s3cret@127.0.0.1:%d", port)));
    assert_int_equal(tf_fetch(p, "http://ocsp.example/", px, NULL, &res),
                     SG_R_PROXY_UNREACHABLE);
    assert_non_null(strstr(res.detail, "proxy"));
    assert_null(strstr(res.detail, "s3cret"));

    /* bypassed: direct, so the responder's own outcome */
    assert_int_equal(tf_fetch(p, url, px, "127.0.0.1", &res), SG_R_REFUSED);
    assert_int_equal(tf_fetch(p, apr_psprintf(p, "http://a.example:%d/", port),
                              px, ".nowhere", &res), SG_R_PROXY_UNREACHABLE);
    apr_pool_destroy(p);
}

/* An exchange over a BIO pair (sg_fetch_run_bio, as fuzz/fuzz_fetch.c
 * uses it): the answer is all there and the peer has closed. What the
 * client wrote is returned in *sent. */
static sg_reason_t tf_answer(apr_pool_t *p, const char *answer,
                             apr_size_t len, const sg_proxy_t *px,
                             sg_fetch_result_t *res, const char **sent)
{
    static const unsigned char der[] = { 0x30, 0x00 };
    sg_request_t req = { .der = der, .der_len = sizeof(der) };
    sg_fetch_args_t args = { .url = "http://ocsp.example:8080/ocsp",
                             .proxy = px, .req = &req, .force_post = 1,
                             .timeout = TF_TIMEOUT, .max_len = 1024 };
    BIO *client, *server;
    char buf[TF_SENT_MAX];
    int n;
    sg_reason_t r;

    assert_true(BIO_new_bio_pair(&client, sizeof(buf), &server, len));
    assert_int_equal(BIO_write(server, answer, (int)len), (int)len);
    assert_int_equal(BIO_shutdown_wr(server), 1);
    r = sg_fetch_run_bio(res, p, &args, client);
    n = BIO_read(server, buf, sizeof(buf));
    *sent = apr_pstrmemdup(p, buf, n > 0 ? (apr_size_t)n : 0);
    BIO_free(client);
    BIO_free(server);
    return r;
}

#define TF_OK_HEAD "HTTP/1.0 200 OK\r\nContent-Type: application/ocsp-response"
#define TF_TRY_LATER "\x30\x03\x0a\x01\x03"   /* a whole OCSPResponse */

static void test_answers(void **state)
{
    static const char ok[] = TF_OK_HEAD "; charset=binary\r\n\r\n"
                             TF_TRY_LATER;
    static const char html[] = "HTTP/1.1 200 OK\r\nContent-Type: text/html"
                               "\r\n\r\n" TF_TRY_LATER;
    static const char e500[] = "HTTP/1.0 500 Internal Server Error\r\n"
                               "Content-Type: text/plain\r\n"
                               "Content-Length: 5\r\n\r\nerror";
    static const char e404[] = "HTTP/1.0 404 Not Found\r\n"
                               "Content-Type: text/html\r\n\r\n<html>";
    static const char auth[] = "HTTP/1.1 407 Proxy Authentication Required"
                               "\r\nContent-Length: 0\r\n\r\n";
    apr_pool_t *p;
    sg_proxy_t *px = NULL;
    sg_fetch_result_t res;
    const char *sent;

    (void)state;
    apr_pool_create(&p, tf_root);
    /* the media type, whatever its parameters say */
    assert_int_equal(tf_answer(p, ok, sizeof(ok) - 1, NULL, &res, &sent),
                     SG_R_OK);
    assert_int_equal(res.der_len, 5);
    assert_memory_equal(res.der, TF_TRY_LATER, 5);
    assert_true(strncmp(sent, "POST /ocsp HTTP/1.0\r\n", 21) == 0);
    assert_non_null(strstr(sent, "Host: ocsp.example:8080\r\n"));
    assert_int_equal(tf_answer(p, html, sizeof(html) - 1, NULL, &res,
                               &sent), SG_R_CONTENT_TYPE);
    /* an error status, with a text page: by its status line on OpenSSL
     * 3.0 and 3.5 alike (3.5 calls it a content type mismatch) */
    assert_int_equal(tf_answer(p, e500, sizeof(e500) - 1, NULL, &res,
                               &sent), SG_R_HTTP_STATUS);
    assert_string_equal(res.detail, "HTTP status 500");
    assert_int_equal(tf_answer(p, e404, sizeof(e404) - 1, NULL, &res,
                               &sent), SG_R_HTTP_STATUS);
    assert_string_equal(res.detail, "HTTP status 404");
    /* through a proxy: the whole URL asked of it, its 407 its own */
    assert_null(sg_proxy_parse(&px, p, "http://sg:pw@proxy.example:3128"));
    assert_int_equal(tf_answer(p, auth, sizeof(auth) - 1, px, &res, &sent),
                     SG_R_PROXY_AUTH);
    assert_true(strncmp(sent, "POST http://ocsp.example:8080/ocsp ", 35)
                == 0);
    assert_non_null(strstr(sent, "Proxy-Authorization: Basic c2c6cHc=\r\n"));
    apr_pool_destroy(p);
}

/* ---- over a loopback server's connections ---- */

/* Answers one connection after another, and keeps their request lines. */
typedef struct {
    int lfd;
    int port;
    int count;                          /* connections to answer */
    const char *answers[TF_SERVER_MAX];
    apr_size_t lens[TF_SERVER_MAX];
    char lines[TF_SERVER_MAX][TF_LINE_MAX];
    int served;
    pthread_t tid;
} tf_server_t;

/* The request: its head, and the body Content-Length says. */
static void tf_server_read(int fd, char *line)
{
    char buf[TF_SENT_MAX + 1], *end, *cl;
    size_t len = 0, want = 0;
    ssize_t n;

    while (len < TF_SENT_MAX) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };

        if (poll(&pfd, 1, TF_SERVER_WAIT_MS) <= 0
            || (n = read(fd, buf + len, TF_SENT_MAX - len)) <= 0) {
            break;
        }
        len += (size_t)n;
        buf[len] = '\0';
        if ((end = strstr(buf, "\r\n\r\n")) == NULL) {
            continue;
        }
        cl = strcasestr(buf, "Content-Length:");
        want = (size_t)(end + 4 - buf) + (cl ? strtoul(cl + 15, NULL, 10) : 0);
        if (len >= want) {
            break;
        }
    }
    buf[len] = '\0';
    end = strstr(buf, "\r\n");
    snprintf(line, TF_LINE_MAX, "%.*s", end ? (int)(end - buf) : (int)len,
             buf);
}

static void *tf_server_run(void *arg)
{
    tf_server_t *s = arg;
    int i, fd;

    for (i = 0; i < s->count; i++) {
        struct pollfd pfd = { .fd = s->lfd, .events = POLLIN };

        if (poll(&pfd, 1, TF_SERVER_WAIT_MS) <= 0
            || (fd = accept(s->lfd, NULL, NULL)) < 0) {
            break;
        }
        tf_server_read(fd, s->lines[i]);
        if (write(fd, s->answers[i], s->lens[i]) != (ssize_t)s->lens[i]) {
            close(fd);
            break;
        }
        shutdown(fd, SHUT_WR);
        close(fd);
        s->served++;
    }
    return NULL;
}

/* A listening socket on 127.0.0.1, nothing accepted yet. */
static int tf_listen(int *port)
{
    struct sockaddr_in sin = { .sin_family = AF_INET };
    socklen_t slen = sizeof(sin);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    assert_int_equal(listen(fd, TF_SERVER_MAX), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &slen), 0);
    *port = ntohs(sin.sin_port);
    return fd;
}

static void tf_server_start(tf_server_t *s, int count, const char *first,
                            apr_size_t first_len, const char *second,
                            apr_size_t second_len)
{
    memset(s, 0, sizeof(*s));
    s->lfd = tf_listen(&s->port);
    s->count = count;
    s->answers[0] = first;
    s->lens[0] = first_len;
    s->answers[1] = second;
    s->lens[1] = second_len;
    assert_int_equal(pthread_create(&s->tid, NULL, tf_server_run, s), 0);
}

/* After the fetch: no more connections are coming. */
static void tf_server_stop(tf_server_t *s)
{
    shutdown(s->lfd, SHUT_RDWR);
    assert_int_equal(pthread_join(s->tid, NULL), 0);
    close(s->lfd);
}

/* A fetch with GET allowed, from 127.0.0.1:port. */
static sg_reason_t tf_get(apr_pool_t *p, int port, int timeout,
                          sg_fetch_result_t *res)
{
    static const unsigned char der[] = { 0x30, 0x00 };
    sg_request_t req = { .der = der, .der_len = sizeof(der),
                         .get_enc = "MAA%3D" };
    sg_fetch_args_t args = { .family = APR_UNSPEC, .req = &req,
                             .timeout = timeout, .max_len = 1024 };

    args.url = apr_psprintf(p, "http://127.0.0.1:%d/ocsp", port);
    return sg_fetch_run(res, p, &args);
}

#define TF_ANSWER(body) TF_OK_HEAD "\r\n\r\n" body
#define TF_MALFORMED "\x30\x03\x0a\x01\x01"

/* A peer that accepts and never answers: a timeout, not a hang. */
static void test_silent_peer(void **state)
{
    apr_pool_t *p;
    sg_fetch_result_t res;
    int port, lfd = tf_listen(&port);

    (void)state;
    apr_pool_create(&p, tf_root);
    assert_int_equal(tf_get(p, port, 1, &res), SG_R_TIMEOUT);
    assert_true(res.latency < apr_time_from_sec(TF_TIMEOUT + 1));
    assert_int_equal(res.get_refused, SG_R_OK);     /* no answer to judge */
    close(lfd);
    apr_pool_destroy(p);
}

/* A GET refused (an error status, a page, malformedRequest): the same
 * URL asked with POST at once, and what answered it said. */
static void tf_expect_post(apr_pool_t *p, const char *refusal, apr_size_t len,
                           sg_reason_t why)
{
    static const char good[] = TF_ANSWER(TF_TRY_LATER);
    tf_server_t s;
    sg_fetch_result_t res;

    tf_server_start(&s, 2, refusal, len, good, sizeof(good) - 1);
    assert_int_equal(tf_get(p, s.port, TF_TIMEOUT, &res), SG_R_OK);
    tf_server_stop(&s);
    assert_int_equal(s.served, 2);
    assert_string_equal(s.lines[0], "GET /ocsp/MAA%3D HTTP/1.0");
    assert_string_equal(s.lines[1], "POST /ocsp HTTP/1.0");
    assert_true(res.used_post);
    assert_int_equal(res.get_refused, why);
    assert_int_equal(res.der_len, 5);
    assert_memory_equal(res.der, TF_TRY_LATER, 5);
}

static void test_post_after_refused_get(void **state)
{
    static const char bad[] = "HTTP/1.0 400 Bad Request\r\n"
                              "Content-Length: 0\r\n\r\n";
    static const char page[] = "HTTP/1.0 200 OK\r\nContent-Type: text/html"
                               "\r\n\r\n<html>no</html>";
    static const char malformed[] = TF_ANSWER(TF_MALFORMED);
    static const char not_ocsp[] = TF_ANSWER("\x30\x03\x02\x01\x05");
    apr_pool_t *p;

    (void)state;
    apr_pool_create(&p, tf_root);
    tf_expect_post(p, bad, sizeof(bad) - 1, SG_R_HTTP_STATUS);
    tf_expect_post(p, page, sizeof(page) - 1, SG_R_CONTENT_TYPE);
    tf_expect_post(p, malformed, sizeof(malformed) - 1,
                   SG_R_MALFORMED_REQUEST);
    tf_expect_post(p, not_ocsp, sizeof(not_ocsp) - 1, SG_R_NOT_OCSP);
    apr_pool_destroy(p);
}

/* The responder's word on the certificate (tryLater) is an answer: no
 * POST after it. */
static void test_get_answered(void **state)
{
    static const char later[] = TF_ANSWER(TF_TRY_LATER);
    apr_pool_t *p;
    tf_server_t s;
    sg_fetch_result_t res;

    (void)state;
    apr_pool_create(&p, tf_root);
    tf_server_start(&s, 2, later, sizeof(later) - 1, later,
                    sizeof(later) - 1);
    assert_int_equal(tf_get(p, s.port, TF_TIMEOUT, &res), SG_R_OK);
    tf_server_stop(&s);
    assert_int_equal(s.served, 1);
    assert_false(res.used_post);
    assert_int_equal(res.get_refused, SG_R_OK);
    apr_pool_destroy(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_proxy_parse),
        cmocka_unit_test(test_bypass_check),
        cmocka_unit_test(test_url_check),
        cmocka_unit_test(test_outcomes),
        cmocka_unit_test(test_answers),
        cmocka_unit_test(test_silent_peer),
        cmocka_unit_test(test_post_after_refused_get),
        cmocka_unit_test(test_get_answered),
    };
    int rc;

    apr_initialize();
    apr_pool_create(&tf_root, NULL);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_pool_destroy(tf_root);
    apr_terminate();
    return rc;
}
