/* fuzz_store.c: a store file's bytes (sg_store.h), decoded as at start-up
 * for the fixed certificate, its response then validated as the module
 * does; and decoded with the hash its own header names, as
 * `staple-guard show` does. Seeds: fuzz/seeds/store/, real files and
 * damaged ones. */
#include "sg_store.h"

#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const fuzz_env_t *e = fuzz_env();
    const unsigned char *der, *hash;
    apr_size_t len;
    apr_pool_t *p;
    sg_verdict_t v;

    apr_pool_create(&p, e->root);
    if (sg_store_decode(data, size, e->cert->hash_bin, &der, &len)
        == SG_STORE_OK) {
        sg_validate_response(&v, p, der, len, e->cert, &e->args);
    }
    hash = sg_store_header_hash(data, size);
    if (hash != NULL) {
        sg_store_format_text(sg_store_decode(data, size, hash, &der, &len));
    }
    apr_pool_destroy(p);
    return 0;
}
