/* fuzz_directive.c: directive values whose parsing is the core's own, as
 * `apache2 -t` passes them: StapleGuardProxy (sg_proxy_parse, and the URL
 * shown without credentials in its error), StapleGuardProxyBypass
 * (sg_proxy_bypass_check, then matched against a host), and
 * StapleGuardResponderURL (the per-host limit's key, sg_fetch_host, and
 * the client's own URL handling: taken apart, request target built, sent
 * direct or through the proxy, to a peer that closes at once). The
 * numeric directives are parsed in httpd/sgh_config.c with httpd's
 * ap_timeout_parameter_parse and strtol: they cannot be linked without
 * httpd and are not fuzzed here.
 *
 * Input: proxy URL, bypass entry, responder URL, host, one per line
 * (missing ones are empty). Seeds: fuzz/seeds/directive/. */
#include <string.h>

#include <openssl/bio.h>

#include "sg_fetch.h"
#include "sg_table.h"

#include "fuzz_util.h"

#define FUZZ_DIRECTIVE_FIELDS 4
#define FUZZ_DIRECTIVE_ROOM 65536   /* for the request nobody reads */
#define FUZZ_DIRECTIVE_TIMEOUT 10   /* as fuzz_fetch.c: a wait is a stall */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Ask url (through px when it is set) of a peer that closes at once. */
static void fuzz_directive_fetch(apr_pool_t *p, const fuzz_env_t *e,
                                 const char *url, const sg_proxy_t *px)
{
    BIO *client = NULL, *server = NULL;
    sg_fetch_args_t a = { 0 };
    sg_fetch_result_t res;
    sg_request_t req;

    if (sg_request_build(&req, p, e->cert->certid_der,
                         e->cert->certid_len) == APR_SUCCESS
        && BIO_new_bio_pair(&client, FUZZ_DIRECTIVE_ROOM, &server, 1)
        && BIO_shutdown_wr(server) == 1) {
        a.url = url;
        a.proxy = px;
        a.req = &req;
        a.timeout = FUZZ_DIRECTIVE_TIMEOUT;
        a.max_len = SG_RESPONSE_MAX;
        sg_fetch_run_bio(&res, p, &a, client);
    }
    BIO_free(client);
    BIO_free(server);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const fuzz_env_t *e = fuzz_env();
    apr_pool_t *p;
    char *f[FUZZ_DIRECTIVE_FIELDS], *rest, *nl;
    sg_proxy_t *px = NULL;
    int i;

    apr_pool_create(&p, e->root);
    rest = fuzz_strdup(p, data, size);
    for (i = 0; i < FUZZ_DIRECTIVE_FIELDS; i++) {
        f[i] = rest;
        nl = strchr(rest, '\n');
        if (nl != NULL) {
            *nl = '\0';
            rest = nl + 1;
        }
        else {
            rest += strlen(rest);
        }
    }
    sg_proxy_url_shown(p, f[0]);
    if (sg_proxy_parse(&px, p, f[0]) != NULL) {
        px = NULL;
    }
    if (px != NULL && sg_proxy_bypass_check(p, f[1]) == NULL) {
        APR_ARRAY_PUSH(px->bypass, const char *) = f[1];
    }
    if (px != NULL) {
        sg_proxy_bypassed(px, f[3]);
    }
    sg_fetch_host(p, f[2]);
    fuzz_directive_fetch(p, e, f[2], px);
    apr_pool_destroy(p);
    return 0;
}
