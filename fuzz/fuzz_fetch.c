/* fuzz_fetch.c: what a responder (or a proxy) sends back, fed to the real
 * client (sg_fetch_run_bio: OpenSSL's HTTP client behind our filter that
 * judges the status line and Content-Type) over a BIO pair whose other
 * end holds the bytes and then closes: status lines, headers, chunked
 * and close-delimited bodies, lengths, content types, proxy answers. A
 * body that is accepted is validated, as a refresh does. Seeds:
 * fuzz/seeds/fetch/.
 *
 * Input: one byte of flags (FUZZ_FETCH_PROXY: through a proxy;
 * FUZZ_FETCH_POST: POST instead of GET), then the bytes sent back. */
#include <openssl/bio.h>

#include "sg_fetch.h"
#include "sg_table.h"

#include "fuzz_util.h"

#define FUZZ_FETCH_PROXY 0x01
#define FUZZ_FETCH_POST 0x02
#define FUZZ_FETCH_PROXY_URL "http://sg:pw@127.0.0.1:3128"
/* Room for the request the client writes, which nobody reads. */
#define FUZZ_FETCH_REQ_ROOM 65536
/* The module's default (StapleGuardResponderTimeout): every byte is
 * there and the peer has closed, so an input that makes the client wait
 * for it is a stall, which libFuzzer's shorter -timeout (fuzz/run.sh)
 * reports. */
#define FUZZ_FETCH_TIMEOUT 10

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_fetch(apr_pool_t *p, const fuzz_env_t *e, int flags,
                       const uint8_t *data, size_t size)
{
    BIO *client = NULL, *server = NULL;
    sg_fetch_args_t a = { 0 };
    sg_fetch_result_t res;
    sg_request_t req;
    sg_proxy_t *px = NULL;
    sg_verdict_t v;

    if (sg_request_build(&req, p, e->cert->certid_der,
                         e->cert->certid_len) != APR_SUCCESS
        || sg_proxy_parse(&px, p, FUZZ_FETCH_PROXY_URL) != NULL
        || !BIO_new_bio_pair(&client, FUZZ_FETCH_REQ_ROOM, &server,
                             size > 0 ? size : 1)
        || BIO_write(server, data, (int)size) != (int)size
        || BIO_shutdown_wr(server) != 1) {
        goto out;
    }
    a.url = e->cert->url;
    a.proxy = (flags & FUZZ_FETCH_PROXY) ? px : NULL;
    a.req = &req;
    a.force_post = (flags & FUZZ_FETCH_POST) != 0;
    a.timeout = FUZZ_FETCH_TIMEOUT;
    a.max_len = SG_RESPONSE_MAX;
    if (sg_fetch_run_bio(&res, p, &a, client) == SG_R_OK) {
        sg_validate_response(&v, p, res.der, res.der_len, e->cert, &e->args);
    }
out:
    BIO_free(client);
    BIO_free(server);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const fuzz_env_t *e = fuzz_env();
    apr_pool_t *p;

    if (size < 1) {
        return 0;
    }
    apr_pool_create(&p, e->root);
    fuzz_fetch(p, e, data[0], data + 1, size - 1);
    apr_pool_destroy(p);
    return 0;
}
