/* sg_crl_fetch.c: one conditional HTTP/1.0 GET of a CRL, bounded in time
 * and size. HTTP/1.0, so that the answer is never chunked: its body ends
 * where the connection (or the Content-Length) does. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <apr_lib.h>
#include <apr_network_io.h>
#include <apr_strings.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/http.h>

#include "sg_crl_fetch.h"
#include "sg_resolve.h"
#include "sg_url.h"

#define SG_CRL_FETCH_HTTP_PORT 80
#define SG_CRL_FETCH_CHUNK 65536
#define SG_CRL_FETCH_FIRST 65536       /* body buffer without a length */
#define SG_CRL_HTTP_OK 200
#define SG_CRL_HTTP_NOT_MODIFIED 304
#define SG_CRL_HTTP_FORBIDDEN 403
#define SG_CRL_HTTP_PROXY_AUTH 407
#define SG_CRL_HTTP_BAD_GATEWAY 502
#define SG_CRL_HTTP_UNAVAILABLE 503
#define SG_CRL_HTTP_GATEWAY_TIMEOUT 504
#define SG_CRL_FETCH_AGENT "mod_staple_guard CRL watch"

/* Where to connect and what to ask for. */
typedef struct {
    const char *connect_host;   /* without brackets */
    int connect_port;
    const char *host_header;
    const char *target;
    const sg_proxy_t *proxy;    /* NULL: direct */
} sg_crl_url_t;

static sg_reason_t sg_crl_fetch_url(sg_crl_url_t *u, apr_pool_t *p,
                                    const sg_crl_fetch_args_t *a,
                                    const char **detail)
{
    char *host = NULL, *port = NULL, *path = NULL, *query = NULL;
    int port_num = 0, use_ssl = 0;
    apr_size_t hlen;
    sg_reason_t r = SG_R_BAD_URL;

    /* the responders' rule (sg_url.c): RFC 3986's characters only, so
     * that a certificate's CR, LF, space or control never reaches the
     * request line */
    *detail = sg_url_check_responder(a->url);
    if (*detail == NULL
        && OSSL_HTTP_parse_url(a->url, &use_ssl, NULL, &host, &port,
                               &port_num, &path, &query, NULL) && !use_ssl) {
        hlen = strlen(host);
        u->connect_host = (hlen > 2 && host[0] == '[')
                          ? apr_pstrmemdup(p, host + 1, hlen - 2)
                          : apr_pstrdup(p, host);
        u->connect_port = port_num;
        u->host_header = port_num == SG_CRL_FETCH_HTTP_PORT
                         ? apr_pstrdup(p, host)
                         : apr_pstrcat(p, host, ":", port, NULL);
        u->target = query && *query ? apr_pstrcat(p, path, "?", query, NULL)
                                    : apr_pstrdup(p, path);
        r = SG_R_OK;
    }
    else if (*detail == NULL) {
        *detail = "is not a URL of the form http://host[:port][/path]";
    }
    if (r == SG_R_OK && a->proxy != NULL
        && !sg_proxy_bypassed(a->proxy, u->connect_host)) {
        u->proxy = a->proxy;
        u->target = apr_pstrcat(p, "http://", u->host_header, u->target,
                                NULL);
        u->connect_host = a->proxy->host;
        u->connect_port = a->proxy->port;
    }
    OPENSSL_free(host);
    OPENSSL_free(port);
    OPENSSL_free(path);
    OPENSSL_free(query);
    ERR_clear_error();
    return r;
}

/* A validator as a server sent it, if it may be sent back as it is. */
static const char *sg_crl_fetch_validator(apr_pool_t *p, const char *v,
                                          apr_size_t len)
{
    apr_size_t i;

    if (len == 0 || len > SG_CRL_FETCH_VALIDATOR_MAX) {
        return NULL;
    }
    for (i = 0; i < len; i++) {
        if (v[i] < 0x20 || v[i] > 0x7e) {
            return NULL;
        }
    }
    return apr_pstrmemdup(p, v, len);
}

static const char *sg_crl_fetch_request(apr_pool_t *p, const sg_crl_url_t *u,
                                        const sg_crl_fetch_args_t *a)
{
    const char *etag = a->etag ? sg_crl_fetch_validator(p, a->etag,
                                                        strlen(a->etag))
                               : NULL;
    const char *lm = a->last_modified
                     ? sg_crl_fetch_validator(p, a->last_modified,
                                              strlen(a->last_modified))
                     : NULL;

    return apr_pstrcat(p, "GET ", u->target, " HTTP/1.0\r\nHost: ",
                       u->host_header, "\r\nUser-Agent: " SG_CRL_FETCH_AGENT
                       "\r\n", etag ? "If-None-Match: " : "",
                       etag ? etag : "", etag ? "\r\n" : "",
                       lm ? "If-Modified-Since: " : "", lm ? lm : "",
                       lm ? "\r\n" : "",
                       u->proxy && u->proxy->auth ? "Proxy-Authorization: "
                                                  : "",
                       u->proxy && u->proxy->auth ? u->proxy->auth : "",
                       u->proxy && u->proxy->auth ? "\r\n" : "",
                       "Connection: close\r\n\r\n", NULL);
}

/* ---- the connection, every step under the deadline ---- */

typedef struct {
    apr_socket_t *sock;
    apr_time_t deadline;
} sg_crl_conn_t;

/* Whatever is left of the deadline for the next step; none left is a
 * timeout (a socket given a timeout of 0 or less would block). */
static sg_reason_t sg_crl_conn_arm(const sg_crl_conn_t *c)
{
    apr_interval_time_t left = c->deadline - apr_time_now();

    if (left <= 0) {
        return SG_R_TIMEOUT;
    }
    return apr_socket_timeout_set(c->sock, left) == APR_SUCCESS
           ? SG_R_OK : SG_R_IO;
}

static sg_reason_t sg_crl_conn_send(const sg_crl_conn_t *c, const char *buf)
{
    apr_size_t left = strlen(buf), n;
    apr_status_t rv = APR_SUCCESS;
    sg_reason_t r = SG_R_OK;

    while (left > 0 && r == SG_R_OK && (r = sg_crl_conn_arm(c)) == SG_R_OK) {
        n = left;
        rv = apr_socket_send(c->sock, buf, &n);
        buf += n;
        left -= n;
        r = APR_STATUS_IS_TIMEUP(rv) ? SG_R_TIMEOUT
            : (rv != APR_SUCCESS ? SG_R_IO : SG_R_OK);
    }
    return r;
}

/* Up to *len bytes; *len 0 at the end of the stream. */
static sg_reason_t sg_crl_conn_recv(const sg_crl_conn_t *c, char *buf,
                                    apr_size_t *len)
{
    sg_reason_t r = sg_crl_conn_arm(c);
    apr_status_t rv;

    if (r != SG_R_OK) {
        return r;
    }
    rv = apr_socket_recv(c->sock, buf, len);
    if (APR_STATUS_IS_EOF(rv)) {
        return SG_R_OK;     /* *len says what came with it */
    }
    if (APR_STATUS_IS_TIMEUP(rv)) {
        return SG_R_TIMEOUT;
    }
    return rv == APR_SUCCESS ? SG_R_OK : SG_R_IO;
}

/* ---- the answer ---- */

typedef struct {
    char buf[SG_CRL_FETCH_HEAD_MAX + 1];
    apr_size_t len;         /* bytes read, head and the body after it */
    apr_size_t head_len;    /* through the blank line */
} sg_crl_head_t;

static apr_size_t sg_crl_head_end(const sg_crl_head_t *h)
{
    const char *crlf = strstr(h->buf, "\r\n\r\n"), *lf = strstr(h->buf,
                                                                "\n\n");

    if (crlf != NULL && (lf == NULL || crlf < lf)) {
        return (apr_size_t)(crlf - h->buf) + 4;
    }
    return lf != NULL ? (apr_size_t)(lf - h->buf) + 2 : 0;
}

static sg_reason_t sg_crl_head_read(sg_crl_head_t *h, const sg_crl_conn_t *c)
{
    apr_size_t n;
    sg_reason_t r = SG_R_OK;

    while (h->head_len == 0 && r == SG_R_OK) {
        if (h->len == SG_CRL_FETCH_HEAD_MAX) {
            return SG_R_IO;
        }
        n = SG_CRL_FETCH_HEAD_MAX - h->len;
        r = sg_crl_conn_recv(c, h->buf + h->len, &n);
        if (r == SG_R_OK && n == 0) {
            return h->len == 0 ? SG_R_EMPTY : SG_R_IO;
        }
        h->len += n;
        h->buf[h->len] = '\0';      /* a NUL in the head ends it early:
                                     * no header is found after it */
        h->head_len = sg_crl_head_end(h);
    }
    return r;
}

/* A header's value in the head, without surrounding blanks; NULL. */
static const char *sg_crl_head_get(apr_pool_t *p, const sg_crl_head_t *h,
                                   const char *name, apr_size_t *vlen)
{
    const char *line = h->buf, *end = h->buf + h->head_len, *v;
    apr_size_t nlen = strlen(name);

    while ((line = memchr(line, '\n', (apr_size_t)(end - line))) != NULL
           && ++line < end) {
        if ((apr_size_t)(end - line) > nlen && line[nlen] == ':'
            && strncasecmp(line, name, nlen) == 0) {
            v = line + nlen + 1;
            v += strspn(v, " \t");
            *vlen = strcspn(v, "\r\n");
            while (*vlen > 0 && (v[*vlen - 1] == ' ' || v[*vlen - 1] == '\t')) {
                (*vlen)--;
            }
            return apr_pstrmemdup(p, v, *vlen);
        }
    }
    return NULL;
}

static int sg_crl_head_status(const sg_crl_head_t *h)
{
    const char *sp = strchr(h->buf, ' ');

    return (strncmp(h->buf, "HTTP/", 5) == 0 && sp != NULL
            && apr_isdigit(sp[1])) ? atoi(sp + 1) : 0;
}

/* A proxy's refusals have reasons of their own (as in sg_fetch.c). */
static sg_reason_t sg_crl_fetch_status(sg_crl_fetch_result_t *res,
                                       apr_pool_t *p, int proxied)
{
    int s = res->status;

    if (proxied && s == SG_CRL_HTTP_PROXY_AUTH) {
        return SG_R_PROXY_AUTH;
    }
    if (proxied && s == SG_CRL_HTTP_FORBIDDEN) {
        return SG_R_PROXY_FORBIDDEN;
    }
    if (proxied && (s == SG_CRL_HTTP_BAD_GATEWAY || s == SG_CRL_HTTP_UNAVAILABLE
                    || s == SG_CRL_HTTP_GATEWAY_TIMEOUT)) {
        return SG_R_PROXY_UPSTREAM;
    }
    if (s == SG_CRL_HTTP_OK || s == SG_CRL_HTTP_NOT_MODIFIED) {
        return SG_R_OK;
    }
    res->detail = s ? apr_psprintf(p, "HTTP status %d", s)
                    : "no HTTP status line";
    return s ? SG_R_HTTP_STATUS : SG_R_IO;
}

static apr_status_t sg_crl_fetch_free(void *data)
{
    free(data);
    return APR_SUCCESS;
}

/* The body's block: its announced size, else a start that doubles. */
static unsigned char *sg_crl_body_grow(apr_pool_t *p, unsigned char *old,
                                       apr_size_t cap)
{
    unsigned char *b;

    if (old != NULL) {
        apr_pool_cleanup_kill(p, old, sg_crl_fetch_free);
    }
    b = realloc(old, cap);
    if (b == NULL) {
        free(old);
        return NULL;
    }
    apr_pool_cleanup_register(p, b, sg_crl_fetch_free,
                              apr_pool_cleanup_null);
    return b;
}

/* Read the body after the head: at most max bytes, the announced length
 * (want, or -1) when there is one. */
static sg_reason_t sg_crl_body_read(sg_crl_fetch_result_t *res,
                                    apr_pool_t *p, const sg_crl_conn_t *c,
                                    const sg_crl_head_t *h, apr_off_t want,
                                    apr_size_t max)
{
    apr_size_t cap = want >= 0 ? (apr_size_t)want + 1 : SG_CRL_FETCH_FIRST;
    apr_size_t have = h->len - h->head_len, n = 1;
    sg_reason_t r = SG_R_OK;

    res->body = sg_crl_body_grow(p, NULL, cap > have ? cap : have + 1);
    if (res->body == NULL) {
        return SG_R_INTERNAL;
    }
    cap = cap > have ? cap : have + 1;
    memcpy(res->body, h->buf + h->head_len, have);
    while (r == SG_R_OK && n > 0 && have <= max
           && (want < 0 || have < (apr_size_t)want)) {
        if (have == cap && (res->body = sg_crl_body_grow(p, res->body,
                                                         cap *= 2)) == NULL) {
            return SG_R_INTERNAL;
        }
        n = cap - have < SG_CRL_FETCH_CHUNK ? cap - have : SG_CRL_FETCH_CHUNK;
        r = sg_crl_conn_recv(c, (char *)res->body + have, &n);
        have += n;
    }
    res->len = have;
    if (have > max) {
        res->detail = apr_psprintf(p, "more than %" APR_SIZE_T_FMT " bytes",
                                   max);
        return SG_R_CRL_TOO_LARGE;
    }
    if (r == SG_R_OK && want >= 0 && have < (apr_size_t)want) {
        res->detail = apr_psprintf(p, "the connection closed after %"
                                   APR_SIZE_T_FMT " of %" APR_OFF_T_FMT
                                   " bytes", have, want);
        return SG_R_IO;
    }
    return r != SG_R_OK ? r : (have == 0 ? SG_R_EMPTY : SG_R_OK);
}

/* Status, validators and length, then the body for a 200. */
static sg_reason_t sg_crl_fetch_answer(sg_crl_fetch_result_t *res,
                                       apr_pool_t *p, const sg_crl_conn_t *c,
                                       const sg_crl_url_t *u,
                                       const sg_crl_fetch_args_t *a)
{
    sg_crl_head_t *h = apr_pcalloc(p, sizeof(*h));
    const char *v;
    apr_size_t vlen = 0;
    apr_off_t want = -1;
    char *end = NULL;
    sg_reason_t r = sg_crl_head_read(h, c);

    if (r != SG_R_OK) {
        return r;
    }
    res->status = sg_crl_head_status(h);
    if ((r = sg_crl_fetch_status(res, p, u->proxy != NULL)) != SG_R_OK) {
        return r;
    }
    if ((v = sg_crl_head_get(p, h, "ETag", &vlen)) != NULL) {
        res->etag = sg_crl_fetch_validator(p, v, vlen);
    }
    if ((v = sg_crl_head_get(p, h, "Last-Modified", &vlen)) != NULL) {
        res->last_modified = sg_crl_fetch_validator(p, v, vlen);
    }
    if (res->status == SG_CRL_HTTP_NOT_MODIFIED) {
        res->not_modified = 1;
        return SG_R_OK;
    }
    if ((v = sg_crl_head_get(p, h, "Content-Length", &vlen)) != NULL
        && (apr_strtoff(&want, v, &end, 10) != APR_SUCCESS || *end != '\0'
            || want < 0)) {
        res->detail = "a bad Content-Length";
        return SG_R_IO;
    }
    if (want > (apr_off_t)a->max_len) {
        res->detail = apr_psprintf(p, "Content-Length %" APR_OFF_T_FMT, want);
        return SG_R_CRL_TOO_LARGE;      /* cut off before the body */
    }
    return sg_crl_body_read(res, p, c, h, want, a->max_len);
}

/* The exchange once connected. */
static sg_reason_t sg_crl_fetch_exchange(sg_crl_fetch_result_t *res,
                                         apr_pool_t *p,
                                         const sg_crl_conn_t *c,
                                         const sg_crl_url_t *u,
                                         const sg_crl_fetch_args_t *a)
{
    sg_reason_t r = sg_crl_conn_send(c, sg_crl_fetch_request(p, u, a));

    if (r == SG_R_OK) {
        r = sg_crl_fetch_answer(res, p, c, u, a);
    }
    if (u->proxy != NULL && r == SG_R_TIMEOUT) {
        r = SG_R_PROXY_TIMEOUT;
    }
    if (u->proxy != NULL && res->detail != NULL) {
        res->detail = apr_psprintf(p, "via proxy %s: %s", u->proxy->shown,
                                   res->detail);
    }
    return r;
}

sg_reason_t sg_crl_fetch_run(sg_crl_fetch_result_t *res, apr_pool_t *p,
                             const sg_crl_fetch_args_t *args)
{
    sg_crl_url_t u;
    sg_crl_conn_t c;
    apr_time_t start = apr_time_now();

    memset(res, 0, sizeof(*res));
    memset(&u, 0, sizeof(u));
    memset(&c, 0, sizeof(c));
    c.deadline = start + args->timeout;
    res->reason = sg_crl_fetch_url(&u, p, args, &res->detail);
    if (res->reason == SG_R_OK) {
        res->reason = sg_resolve_connect(&res->detail, p, u.connect_host,
                                         u.connect_port, args->family,
                                         c.deadline, &c.sock);
        if (u.proxy != NULL && res->reason != SG_R_OK) {
            res->detail = apr_pstrcat(p, "proxy ", res->detail, NULL);
            res->reason = res->reason == SG_R_TIMEOUT ? SG_R_PROXY_TIMEOUT
                                                      : SG_R_PROXY_UNREACHABLE;
        }
    }
    if (res->reason == SG_R_OK) {
        res->reason = sg_crl_fetch_exchange(res, p, &c, &u, args);
    }
    if (c.sock != NULL) {
        apr_socket_close(c.sock);
    }
    res->latency = apr_time_now() - start;
    return res->reason;
}
