/* sg_fetch.c: fetch an OCSP response with OpenSSL's HTTP client. */
#include <string.h>
#include <strings.h>

#include <apr_network_io.h>
#include <apr_portable.h>
#include <apr_strings.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/http.h>
#include <openssl/ocsp.h>
#include <openssl/httperr.h>
#include <openssl/x509v3.h>

#include "sg_fetch.h"
#include "sg_resolve.h"
#include "sg_url.h"

#define SG_FETCH_READ_CHUNK 4096
#define SG_FETCH_HTTP_PORT 80
#define SG_FETCH_HEAD_MAX 8192      /* response head kept to judge it */
#define SG_FETCH_CT_HEADER "Content-Type:"
#define SG_FETCH_HTTP_OK 200
#define SG_FETCH_HTTP_FORBIDDEN 403
#define SG_FETCH_HTTP_PROXY_AUTH 407
#define SG_FETCH_HTTP_BAD_GATEWAY 502
#define SG_FETCH_HTTP_UNAVAILABLE 503   /* squid: responder unreachable */
#define SG_FETCH_HTTP_GATEWAY_TIMEOUT 504

/* Map OpenSSL's error queue to a reason an operator can act on. The queue
 * holds several entries for one failure; the most specific one wins. */
static sg_reason_t sg_fetch_classify(apr_pool_t *p, const char **detail)
{
    unsigned long e;
    const char *data;
    int flags;
    sg_reason_t r = SG_R_IO;
    char buf[256];

    *detail = NULL;
    while ((e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
        int lib = ERR_GET_LIB(e), reason = ERR_GET_REASON(e);
        sg_reason_t before = r;
        const char *text;

        ERR_error_string_n(e, buf, sizeof(buf));
        text = apr_psprintf(p, "%s%s%s", buf,
                            (flags & ERR_TXT_STRING) ? ": " : "",
                            (flags & ERR_TXT_STRING) ? data : "");
        if (lib == ERR_LIB_HTTP) {
            switch (reason) {
            case HTTP_R_RECEIVED_ERROR:
            case HTTP_R_STATUS_CODE_UNSUPPORTED:
            case HTTP_R_REDIRECTION_NOT_ENABLED:
            case HTTP_R_MISSING_REDIRECT_LOCATION:
                r = SG_R_HTTP_STATUS;
                break;
            case HTTP_R_UNEXPECTED_CONTENT_TYPE:
            case HTTP_R_MISSING_CONTENT_TYPE:
                r = SG_R_CONTENT_TYPE;
                break;
            case HTTP_R_MAX_RESP_LEN_EXCEEDED:
            case HTTP_R_ASN1_LEN_EXCEEDS_MAX_RESP_LEN:
                r = SG_R_TOO_LARGE;
                break;
            case HTTP_R_RETRY_TIMEOUT:
                r = SG_R_TIMEOUT;
                break;
            case HTTP_R_ERROR_PARSING_ASN1_LENGTH:
            case HTTP_R_MISSING_ASN1_ENCODING:
                r = SG_R_NOT_OCSP;
                break;
            case HTTP_R_ERROR_PARSING_URL:
            case HTTP_R_INVALID_URL_PATH:
            case HTTP_R_INVALID_URL_SCHEME:
            case HTTP_R_INVALID_PORT_NUMBER:
                r = SG_R_BAD_URL;
                break;
            default:
                break;
            }
        }
        else if (lib == ERR_LIB_BIO && (reason == BIO_R_TRANSFER_TIMEOUT
                                        || reason == BIO_R_CONNECT_TIMEOUT)) {
            r = SG_R_TIMEOUT;
        }
        /* Keep the words of the entry that decided the reason. */
        if (*detail == NULL || r != before) {
            *detail = text;
        }
    }
    return r;
}

static sg_reason_t sg_fetch_read(sg_fetch_result_t *res, apr_pool_t *p,
                                 BIO *body, apr_size_t max_len)
{
    unsigned char *buf = apr_palloc(p, max_len);
    apr_size_t len = 0;
    int n;

    while (len < max_len
           && (n = BIO_read(body, buf + len,
                            (int)((max_len - len) < SG_FETCH_READ_CHUNK
                                  ? (max_len - len) : SG_FETCH_READ_CHUNK))) > 0) {
        len += (apr_size_t)n;
    }
    if (len == max_len && BIO_pending(body) > 0) {
        return SG_R_TOO_LARGE;
    }
    if (len == 0) {
        return SG_R_EMPTY;
    }
    res->der = buf;
    res->der_len = len;
    return SG_R_OK;
}

/* Whole seconds left until deadline, rounded up (OpenSSL counts whole
 * seconds); 0 when none is left, which is a timeout: OpenSSL reads 0 as
 * "no timeout". */
static int sg_fetch_seconds_left(apr_time_t deadline)
{
    apr_interval_time_t left = deadline - apr_time_now();

    return left > 0 ? (int)((left + APR_USEC_PER_SEC - 1) / APR_USEC_PER_SEC)
                    : 0;
}

/* ---- the response head, seen on its way to OpenSSL ----
 *
 * OpenSSL 3.0's HTTP client returns the body only: neither the status
 * code (which tells a proxy's 407 from a responder's error) nor the
 * headers. And it compares Content-Type as a whole string, so it refuses
 * "application/ocsp-response; charset=binary", which is the same media
 * type (RFC 9110 8.3.1: parameters follow a ';', the type is
 * case-insensitive). A filter BIO on the read side keeps a copy of the
 * head; OpenSSL is told to expect ASN.1 but no particular type (it still
 * refuses a body that is not a DER SEQUENCE, such as an HTML page), and
 * the type and status are judged here. */
typedef struct {
    char buf[SG_FETCH_HEAD_MAX];
    apr_size_t len;
    int done;                   /* the blank line was seen */
} sg_fetch_head_t;

static void sg_fetch_head_add(sg_fetch_head_t *h, const char *data, int n)
{
    int i;

    for (i = 0; i < n && !h->done && h->len < sizeof(h->buf) - 1; i++) {
        h->buf[h->len++] = data[i];
        h->buf[h->len] = '\0';
        h->done = (h->len >= 2 && strcmp(h->buf + h->len - 2, "\n\n") == 0)
                  || (h->len >= 4
                      && strcmp(h->buf + h->len - 4, "\r\n\r\n") == 0);
    }
}

static int sg_fetch_snoop_read(BIO *b, char *out, int outl)
{
    int n = BIO_read(BIO_next(b), out, outl);

    BIO_clear_retry_flags(b);
    BIO_copy_next_retry(b);
    if (n > 0) {
        sg_fetch_head_add(BIO_get_data(b), out, n);
    }
    return n;
}

static int sg_fetch_snoop_write(BIO *b, const char *in, int inl)
{
    int n = BIO_write(BIO_next(b), in, inl);

    BIO_clear_retry_flags(b);
    BIO_copy_next_retry(b);
    return n;
}

static long sg_fetch_snoop_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    return BIO_ctrl(BIO_next(b), cmd, num, ptr);
}

/* The filter's method: made once per process (a new one per fetch would
 * also take a new BIO type index each time, from a global counter). */
static CRYPTO_ONCE sg_fetch_snoop_once = CRYPTO_ONCE_STATIC_INIT;
static BIO_METHOD *sg_fetch_snoop_meth;

static void sg_fetch_snoop_init(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_FILTER,
                                 "staple-guard head");

    if (m != NULL && !(BIO_meth_set_read(m, sg_fetch_snoop_read)
                       && BIO_meth_set_write(m, sg_fetch_snoop_write)
                       && BIO_meth_set_ctrl(m, sg_fetch_snoop_ctrl))) {
        BIO_meth_free(m);
        m = NULL;
    }
    sg_fetch_snoop_meth = m;
}

/* A filter in front of next that copies the response head into h. */
static BIO *sg_fetch_snoop_new(BIO *next, sg_fetch_head_t *h)
{
    BIO *b = NULL;

    if (CRYPTO_THREAD_run_once(&sg_fetch_snoop_once, sg_fetch_snoop_init)
        && sg_fetch_snoop_meth != NULL
        && (b = BIO_new(sg_fetch_snoop_meth)) != NULL) {
        BIO_set_data(b, h);
        BIO_set_init(b, 1);
        BIO_set_next(b, next);
    }
    return b;
}

/* The status code of the head, 0 when there is none. */
static int sg_fetch_head_status(const sg_fetch_head_t *h)
{
    const char *sp = strchr(h->buf, ' ');

    return (strncmp(h->buf, "HTTP/", 5) == 0 && sp != NULL) ? atoi(sp + 1)
                                                            : 0;
}

/* The media type of the head, without parameters; NULL without one. */
static const char *sg_fetch_head_type(apr_pool_t *p, const sg_fetch_head_t *h)
{
    const char *line = h->buf, *v;
    apr_size_t n;

    while ((line = strchr(line, '\n')) != NULL && *++line != '\0') {
        if (strncasecmp(line, SG_FETCH_CT_HEADER,
                        sizeof(SG_FETCH_CT_HEADER) - 1) == 0) {
            v = line + sizeof(SG_FETCH_CT_HEADER) - 1;
            v += strspn(v, " \t");
            n = strcspn(v, "; \t\r\n");
            return apr_pstrmemdup(p, v, n);
        }
    }
    return NULL;
}

/* What the head says, beside what OpenSSL said (r). Through a proxy,
 * its own refusals are told from the responder's by their status codes:
 * 407 (only a proxy asks for proxy credentials), 403, and 502/503/504
 * (the proxy's words for "the responder behind me failed"; squid says
 * 503 when it cannot connect). A responder's own 403 or 503 relayed by
 * the proxy reads the same: the proxy's outcome then still names the
 * responder's URL in the line. */
static sg_reason_t sg_fetch_judge(sg_fetch_result_t *res, apr_pool_t *p,
                                  const sg_fetch_head_t *h, int proxied,
                                  sg_reason_t r)
{
    int status = sg_fetch_head_status(h);
    const char *type = sg_fetch_head_type(p, h);

    if (proxied && status == SG_FETCH_HTTP_PROXY_AUTH) {
        return SG_R_PROXY_AUTH;
    }
    if (proxied && status == SG_FETCH_HTTP_FORBIDDEN) {
        return SG_R_PROXY_FORBIDDEN;
    }
    if (proxied && (status == SG_FETCH_HTTP_BAD_GATEWAY
                    || status == SG_FETCH_HTTP_UNAVAILABLE
                    || status == SG_FETCH_HTTP_GATEWAY_TIMEOUT)) {
        return SG_R_PROXY_UPSTREAM;
    }
    if (proxied && r == SG_R_TIMEOUT) {
        return SG_R_PROXY_TIMEOUT;
    }
    /* An error status is told by the status line, not by OpenSSL's words
     * for it, which differ: 3.0 says "received error" or "status code
     * unsupported", 3.5 "content type mismatch" for a text error page
     * (docs/design.md, "OpenSSL 3.0 and 3.5"). */
    if (r != SG_R_OK && status != 0 && status != SG_FETCH_HTTP_OK) {
        res->detail = apr_psprintf(p, "HTTP status %d", status);
        return SG_R_HTTP_STATUS;
    }
    if (status == SG_FETCH_HTTP_OK && h->done
        && (type == NULL || strcasecmp(type, SG_FETCH_CONTENT_TYPE) != 0)) {
        res->detail = apr_psprintf(p, "Content-Type: %s",
                                   type ? type : "(none)");
        return SG_R_CONTENT_TYPE;
    }
    return r;
}

/* ---- the exchange ---- */

/* Where to connect and what to ask for, from the responder URL. */
typedef struct {
    char *host;             /* as in the URL: an IPv6 literal in brackets */
    char *port;
    int port_num;
    char *path;
    char *query;
    const char *connect_host;   /* without brackets */
    int connect_port;
    const sg_proxy_t *proxy;  /* NULL: direct */
    const char *target;     /* request target */
    STACK_OF(CONF_VALUE) *headers;
} sg_fetch_url_t;

/* The copy of the proxy's credential that X509V3_add_value made is wiped
 * before it is freed, as sg_proxy.c wipes its own. */
static void sg_fetch_headers_wipe(STACK_OF(CONF_VALUE) *headers)
{
    int i;

    for (i = 0; i < sk_CONF_VALUE_num(headers); i++) {
        CONF_VALUE *v = sk_CONF_VALUE_value(headers, i);

        if (v->value != NULL) {
            OPENSSL_cleanse(v->value, strlen(v->value));
        }
    }
}

static void sg_fetch_url_free(sg_fetch_url_t *u)
{
    sg_fetch_headers_wipe(u->headers);
    OPENSSL_free(u->host);
    OPENSSL_free(u->port);
    OPENSSL_free(u->path);
    OPENSSL_free(u->query);
    sk_CONF_VALUE_pop_free(u->headers, X509V3_conf_free);
}

/* Through a proxy: connect to it, and give it the whole URL as the
 * target (absolute form, RFC 9112 3.2.2). OpenSSL's client writes a
 * target that starts with "http://" as it is; its own proxy support
 * would connect by itself, which is what we must not let it do. */
static sg_reason_t sg_fetch_via(sg_fetch_url_t *u, apr_pool_t *p,
                                const sg_fetch_args_t *args)
{
    u->connect_port = u->port_num;
    if (args->proxy == NULL || sg_proxy_bypassed(args->proxy,
                                                 u->connect_host)) {
        return SG_R_OK;
    }
    u->proxy = args->proxy;
    u->connect_host = u->proxy->host;
    u->connect_port = u->proxy->port;
    u->target = apr_psprintf(p, "http://%s:%s%s", u->host, u->port,
                             u->target);
    if (u->proxy->auth != NULL
        && !X509V3_add_value("Proxy-Authorization", u->proxy->auth,
                             &u->headers)) {
        return SG_R_INTERNAL;
    }
    return SG_R_OK;
}

static sg_reason_t sg_fetch_url(sg_fetch_result_t *res, apr_pool_t *p,
                                const sg_fetch_args_t *args, int post,
                                sg_fetch_url_t *u)
{
    int use_ssl = 0, has_query;
    apr_size_t hlen;
    const char *host_hdr;

    if (!OSSL_HTTP_parse_url(args->url, &use_ssl, NULL, &u->host, &u->port,
                             &u->port_num, &u->path, &u->query, NULL)
        || use_ssl) {
        res->detail = use_ssl ? "https:// responders are not supported"
                              : "cannot parse the URL";
        ERR_clear_error();
        return SG_R_BAD_URL;
    }
    if ((res->detail = sg_url_check_authority(args->url, u->host)) != NULL) {
        return SG_R_BAD_URL;
    }
    hlen = strlen(u->host);
    u->connect_host = (hlen > 2 && u->host[0] == '[')
                      ? apr_pstrmemdup(p, u->host + 1, hlen - 2) : u->host;
    /* A query belongs to the URL: GET would have to put the request
     * after it, so such a responder is asked with POST. */
    has_query = (u->query != NULL && *u->query != '\0');
    res->used_post = post || args->force_post || args->req->get_enc == NULL
                     || has_query;
    if (res->used_post) {
        u->target = has_query ? apr_pstrcat(p, u->path, "?", u->query, NULL)
                              : u->path;
    }
    else {
        u->target = sg_request_get_target(p, args->req, u->path);
    }
    /* OpenSSL's own Host header leaves out the port (RFC 9110 7.2). */
    host_hdr = (u->port_num == SG_FETCH_HTTP_PORT)
               ? u->host : apr_pstrcat(p, u->host, ":", u->port, NULL);
    if (!X509V3_add_value("Host", host_hdr, &u->headers)) {
        return SG_R_INTERNAL;
    }
    return sg_fetch_via(u, p, args);
}

const char *sg_fetch_host(apr_pool_t *p, const char *url)
{
    const char *start = strstr(url, "://"), *end;

    start = start ? start + 3 : url;
    end = strchr(start, '/');
    return end ? apr_pstrmemdup(p, start, (apr_size_t)(end - start))
               : apr_pstrdup(p, start);
}

/* Connect to the responder or the proxy (at addr, one of its addresses,
 * when given); a proxy's failures have their own reasons, so that the
 * operator looks at the right machine. */
static sg_reason_t sg_fetch_open(sg_fetch_result_t *res, apr_pool_t *p,
                                 const sg_fetch_url_t *u, int family,
                                 const char *addr, apr_time_t deadline,
                                 apr_socket_t **psock)
{
    sg_reason_t r = sg_resolve_connect(&res->detail, p,
                                       addr ? addr : u->connect_host,
                                       u->connect_port, family, deadline,
                                       psock);

    if (u->proxy != NULL && r != SG_R_OK) {
        res->detail = apr_pstrcat(p, "proxy ", res->detail, NULL);
        r = (r == SG_R_TIMEOUT) ? SG_R_PROXY_TIMEOUT : SG_R_PROXY_UNREACHABLE;
    }
    return r;
}

/* The HTTP exchange over our own connection: no proxy from the
 * environment (httpd's environment is not the administrator's shell),
 * no redirects. */
static sg_reason_t sg_fetch_exchange(sg_fetch_result_t *res, apr_pool_t *p,
                                     const sg_fetch_args_t *args,
                                     const sg_fetch_url_t *u, BIO *conn,
                                     BIO *req, apr_time_t deadline)
{
    sg_fetch_head_t *h = apr_pcalloc(p, sizeof(*h));
    BIO *rbio = sg_fetch_snoop_new(conn, h), *body = NULL;
    int left = sg_fetch_seconds_left(deadline);
    sg_reason_t r = SG_R_INTERNAL;

    if (left <= 0) {
        res->detail = "no time left to send the request";
        r = u->proxy != NULL ? SG_R_PROXY_TIMEOUT : SG_R_TIMEOUT;
    }
    else if (rbio != NULL) {
        body = OSSL_HTTP_transfer(NULL, u->host, u->port, u->target, 0, NULL,
                                  NULL, conn, rbio, NULL, NULL, 0, u->headers,
                                  res->used_post ? SG_FETCH_REQUEST_TYPE
                                                 : NULL,
                                  req, NULL, 1, args->max_len, left, 0);
        r = body != NULL ? SG_R_OK : sg_fetch_classify(p, &res->detail);
        r = sg_fetch_judge(res, p, h, u->proxy != NULL, r);
    }
    if (r == SG_R_OK) {
        r = sg_fetch_read(res, p, body, args->max_len);
    }
    if (u->proxy != NULL && res->detail != NULL) {
        res->detail = apr_psprintf(p, "via proxy %s: %s", u->proxy->shown,
                                   res->detail);
    }
    BIO_free_all(body);
    BIO_free(rbio);
    return r;
}

/* What comes before connecting: the URL taken apart, and the body of a
 * POST (*req stays NULL for GET). */
static sg_reason_t sg_fetch_prepare(sg_fetch_result_t *res, apr_pool_t *p,
                                    const sg_fetch_args_t *args, int post,
                                    sg_fetch_url_t *u, BIO **req)
{
    sg_reason_t r = sg_fetch_url(res, p, args, post, u);

    if (r == SG_R_OK && res->used_post
        && (*req = BIO_new_mem_buf(args->req->der,
                                   (int)args->req->der_len)) == NULL) {
        r = SG_R_INTERNAL;
    }
    return r;
}

/* The address sock is connected to, as a number; NULL if unknown. */
static const char *sg_fetch_peer(apr_pool_t *p, apr_socket_t *sock)
{
    apr_sockaddr_t *sa;
    char *ip = NULL;

    if (apr_socket_addr_get(&sa, APR_REMOTE, sock) != APR_SUCCESS
        || apr_sockaddr_ip_get(&ip, sa) != APR_SUCCESS) {
        return NULL;
    }
    return apr_pstrdup(p, ip);
}

/* One exchange over a connection of its own: with POST when post says
 * so (or args make GET impossible), to addr when given (else the host
 * is looked up); *peer gets the address it reached. */
static sg_reason_t sg_fetch_once(sg_fetch_result_t *res, apr_pool_t *p,
                                 const sg_fetch_args_t *args, int post,
                                 const char *addr, apr_time_t deadline,
                                 const char **peer)
{
    sg_fetch_url_t u;
    BIO *req = NULL, *conn = NULL;
    apr_socket_t *sock = NULL;
    apr_os_sock_t fd;

    memset(&u, 0, sizeof(u));
    ERR_clear_error();
    res->reason = sg_fetch_prepare(res, p, args, post, &u, &req);
    if (res->reason != SG_R_OK) {
        goto out;
    }
    res->reason = sg_fetch_open(res, p, &u, addr ? APR_UNSPEC : args->family,
                                addr, deadline, &sock);
    if (res->reason != SG_R_OK) {
        goto out;
    }
    *peer = sg_fetch_peer(p, sock);
    if (apr_os_sock_get(&fd, sock) != APR_SUCCESS
        || (conn = BIO_new_socket(fd, BIO_NOCLOSE)) == NULL) {
        res->reason = SG_R_INTERNAL;
        goto out;
    }
    res->reason = sg_fetch_exchange(res, p, args, &u, conn, req, deadline);
out:
    BIO_free(req);
    BIO_free(conn);
    if (sock != NULL) {
        apr_socket_close(sock);
    }
    sg_fetch_url_free(&u);
    return res->reason;
}

/* Why the answer to a GET says the GET itself failed, so that the same
 * URL is asked with POST at once; SG_R_OK when it does not. An HTTP
 * error status (a responder or CDN that refuses GET, or mangles its
 * path), a body that is not an OCSP response, or one that says
 * malformedRequest (the path did not decode to the request). Any other
 * answer is the responder's word on the certificate, which POST would
 * get as well. */
static sg_reason_t sg_fetch_get_refused(const sg_fetch_result_t *res)
{
    const unsigned char *pos = res->der;
    OCSP_RESPONSE *resp;
    sg_reason_t r = SG_R_OK;

    if (res->reason == SG_R_HTTP_STATUS || res->reason == SG_R_CONTENT_TYPE
        || res->reason == SG_R_NOT_OCSP || res->reason == SG_R_EMPTY) {
        return res->reason;
    }
    if (res->reason != SG_R_OK) {
        return SG_R_OK;         /* no answer (timeout, refused...) */
    }
    resp = d2i_OCSP_RESPONSE(NULL, &pos, (long)res->der_len);
    if (resp == NULL || pos != res->der + res->der_len) {
        r = SG_R_NOT_OCSP;
    }
    else if (OCSP_response_status(resp)
             == OCSP_RESPONSE_STATUS_MALFORMEDREQUEST) {
        r = SG_R_MALFORMED_REQUEST;
    }
    OCSP_RESPONSE_free(resp);
    return r;
}

sg_reason_t sg_fetch_run(sg_fetch_result_t *res, apr_pool_t *p,
                         const sg_fetch_args_t *args)
{
    apr_time_t start = apr_time_now();
    apr_time_t deadline = start + apr_time_from_sec(args->timeout);
    const char *peer = NULL, *get_detail;
    sg_reason_t refused;

    memset(res, 0, sizeof(*res));
    sg_fetch_once(res, p, args, 0, NULL, deadline, &peer);
    refused = res->used_post ? SG_R_OK : sg_fetch_get_refused(res);
    /* Asked again at the address that answered: no second lookup, and
     * the same server (a name's addresses may be different CDN nodes). */
    if (refused != SG_R_OK && peer != NULL) {
        get_detail = res->detail;
        memset(res, 0, sizeof(*res));
        sg_fetch_once(res, p, args, 1, peer, deadline, &peer);
        res->get_refused = refused;
        res->get_detail = get_detail;
    }
    res->latency = apr_time_now() - start;
    return res->reason;
}

sg_reason_t sg_fetch_run_bio(sg_fetch_result_t *res, apr_pool_t *p,
                             const sg_fetch_args_t *args, BIO *conn)
{
    sg_fetch_url_t u;
    BIO *req = NULL;
    apr_time_t start = apr_time_now();

    memset(res, 0, sizeof(*res));
    memset(&u, 0, sizeof(u));
    ERR_clear_error();
    res->reason = sg_fetch_prepare(res, p, args, 0, &u, &req);
    if (res->reason == SG_R_OK) {
        res->reason = sg_fetch_exchange(res, p, args, &u, conn, req,
                                        start + apr_time_from_sec(
                                            args->timeout));
    }
    res->latency = apr_time_now() - start;
    BIO_free(req);
    sg_fetch_url_free(&u);
    return res->reason;
}
