/* fuzz_cert.c: PEM as mod_ssl hands it over (the certificate, then its
 * chain), parsed by sg_cert_parse; a certificate that parses gets its
 * OCSP request built, as the module does next. Seeds: fuzz/seeds/cert/. */
#include "sg_request.h"

#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const fuzz_env_t *e = fuzz_env();
    apr_pool_t *p;
    sg_cert_t *c;
    sg_request_t req;
    const char *err;

    apr_pool_create(&p, e->root);
    /* Without a cache: one per run would keep every chain certificate
     * ever parsed, and make an input's outcome depend on the ones before. */
    if (sg_cert_parse(&c, p, fuzz_strdup(p, data, size), NULL, &err)
        == APR_SUCCESS) {
        sg_request_build(&req, p, c->certid_der, c->certid_len);
        if (req.get_enc != NULL && c->url != NULL) {
            sg_request_get_target(p, &req, c->url);
        }
    }
    apr_pool_destroy(p);
    return 0;
}
