/* sg_fetch.c: fetch an OCSP response with OpenSSL's HTTP client. */
#include <string.h>

#include <apr_network_io.h>
#include <apr_portable.h>
#include <apr_strings.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/http.h>
#include <openssl/httperr.h>
#include <openssl/x509v3.h>

#include "sg_fetch.h"

#define SG_FETCH_READ_CHUNK 4096
#define SG_FETCH_HTTP_PORT 80

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

/* Resolve and connect with APR, so that an operator is told which of the
 * three went wrong: the name, the refusal, or the silence. (OpenSSL's own
 * connect retries a refused connection until its timeout.) */
static sg_reason_t sg_fetch_connect(sg_fetch_result_t *res, apr_pool_t *p,
                                    const char *host, int port,
                                    apr_time_t deadline, apr_socket_t **psock)
{
    apr_sockaddr_t *sa;
    apr_socket_t *sock = NULL;
    apr_interval_time_t left;
    apr_status_t rv = APR_TIMEUP;
    char err[128];

    rv = apr_sockaddr_info_get(&sa, host, APR_UNSPEC, (apr_port_t)port, 0, p);
    if (rv != APR_SUCCESS) {
        res->detail = apr_psprintf(p, "%s: %s", host,
                                   apr_strerror(rv, err, sizeof(err)));
        return SG_R_RESOLVE;
    }
    /* Every address shares the one deadline: the timeout bounds the
     * whole exchange, however many addresses the name has. */
    for (; sa != NULL && (left = deadline - apr_time_now()) > 0;
         sa = sa->next) {
        rv = apr_socket_create(&sock, sa->family, SOCK_STREAM, APR_PROTO_TCP, p);
        if (rv == APR_SUCCESS) {
            /* A timeout makes APR put the socket in non-blocking mode,
             * which OpenSSL's HTTP client then waits on with its own. */
            apr_socket_timeout_set(sock, left);
            rv = apr_socket_connect(sock, sa);
        }
        if (rv == APR_SUCCESS) {
            *psock = sock;
            return SG_R_OK;
        }
        if (sock != NULL) {
            apr_socket_close(sock);
            sock = NULL;
        }
    }
    res->detail = apr_psprintf(p, "%s port %d: %s", host, port,
                               apr_strerror(rv, err, sizeof(err)));
    return APR_STATUS_IS_TIMEUP(rv) ? SG_R_TIMEOUT : SG_R_REFUSED;
}

/* Whole seconds left until deadline, at least 1: OpenSSL counts seconds. */
static int sg_fetch_seconds_left(apr_time_t deadline)
{
    apr_interval_time_t left = deadline - apr_time_now();
    int sec = (int)((left + APR_USEC_PER_SEC - 1) / APR_USEC_PER_SEC);

    return sec > 0 ? sec : 1;
}

/* Where to connect and what to ask for, from the responder URL. */
typedef struct {
    char *host;             /* as in the URL: an IPv6 literal in brackets */
    char *port;
    int port_num;
    char *path;
    char *query;
    const char *connect_host;   /* without brackets */
    const char *target;     /* request target */
    STACK_OF(CONF_VALUE) *headers;
} sg_fetch_url_t;

static void sg_fetch_url_free(sg_fetch_url_t *u)
{
    OPENSSL_free(u->host);
    OPENSSL_free(u->port);
    OPENSSL_free(u->path);
    OPENSSL_free(u->query);
    sk_CONF_VALUE_pop_free(u->headers, X509V3_conf_free);
}

static sg_reason_t sg_fetch_url(sg_fetch_result_t *res, apr_pool_t *p,
                                const sg_fetch_args_t *args, sg_fetch_url_t *u)
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
    hlen = strlen(u->host);
    u->connect_host = (hlen > 2 && u->host[0] == '[')
                      ? apr_pstrmemdup(p, u->host + 1, hlen - 2) : u->host;
    /* A query belongs to the URL: GET would have to put the request
     * after it, so such a responder is asked with POST. */
    has_query = (u->query != NULL && *u->query != '\0');
    res->used_post = args->force_post || args->req->get_enc == NULL
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
    return SG_R_OK;
}

const char *sg_fetch_host(apr_pool_t *p, const char *url)
{
    const char *start = strstr(url, "://"), *end;

    start = start ? start + 3 : url;
    end = strchr(start, '/');
    return end ? apr_pstrmemdup(p, start, (apr_size_t)(end - start))
               : apr_pstrdup(p, start);
}

sg_reason_t sg_fetch_run(sg_fetch_result_t *res, apr_pool_t *p,
                         const sg_fetch_args_t *args)
{
    sg_fetch_url_t u;
    BIO *req = NULL, *body = NULL, *conn = NULL;
    apr_socket_t *sock = NULL;
    apr_os_sock_t fd;
    apr_time_t start = apr_time_now();
    apr_time_t deadline = start + apr_time_from_sec(args->timeout);

    memset(res, 0, sizeof(*res));
    memset(&u, 0, sizeof(u));
    ERR_clear_error();
    res->reason = sg_fetch_url(res, p, args, &u);
    if (res->reason != SG_R_OK) {
        goto out;
    }
    if (res->used_post
        && (req = BIO_new_mem_buf(args->req->der,
                                  (int)args->req->der_len)) == NULL) {
        res->reason = SG_R_INTERNAL;
        goto out;
    }
    res->reason = sg_fetch_connect(res, p, u.connect_host, u.port_num,
                                   deadline, &sock);
    if (res->reason != SG_R_OK) {
        goto out;
    }
    if (apr_os_sock_get(&fd, sock) != APR_SUCCESS
        || (conn = BIO_new_socket(fd, BIO_NOCLOSE)) == NULL) {
        res->reason = SG_R_INTERNAL;
        goto out;
    }
    /* Over our own connection: no proxy from the environment (httpd's
     * environment is not the administrator's shell), no redirects. */
    body = OSSL_HTTP_transfer(NULL, u.host, u.port, u.target, 0, NULL, NULL,
                              conn, conn, NULL, NULL, 0, u.headers,
                              res->used_post ? SG_FETCH_REQUEST_TYPE : NULL,
                              req, SG_FETCH_CONTENT_TYPE, 1, args->max_len,
                              sg_fetch_seconds_left(deadline), 0);
    if (body == NULL) {
        res->reason = sg_fetch_classify(p, &res->detail);
        goto out;
    }
    res->reason = sg_fetch_read(res, p, body, args->max_len);
out:
    res->latency = apr_time_now() - start;
    BIO_free_all(body);
    BIO_free(req);
    BIO_free(conn);
    if (sock != NULL) {
        apr_socket_close(sock);
    }
    sg_fetch_url_free(&u);
    return res->reason;
}
