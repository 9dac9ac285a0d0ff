/* sgh_diagnose.c: the missing intermediate, found from our side.
 *
 * mod_ssl asks stapling providers only about certificates whose issuer it
 * could find (in SSLCertificateFile, the chain file or the CA store). A
 * certificate without one gets no stapling at all, and nothing says so.
 * So we read the SSLCertificateFile directives of the configuration and
 * look for certificates that name a responder but never reached us.
 */
#include <apr_hash.h>
#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <util_cfgtree.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "sgh_diagnose.h"
#include "sgh_msg.h"

APLOG_USE_MODULE(staple_guard);

#define SGH_DIAG_DIRECTIVE "SSLCertificateFile"

static X509 *sgh_diagnose_read(const char *path)
{
    BIO *bio = BIO_new_file(path, "r");
    X509 *x509 = NULL;

    if (bio != NULL) {
        x509 = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        BIO_free(bio);
    }
    ERR_clear_error();
    return x509;
}

static const char *sgh_diagnose_hash(apr_pool_t *p, X509 *x509)
{
    char hex[SG_CERT_HASH_HEX_LEN + 1];
    unsigned char bin[SG_CERT_HASH_HEX_LEN / 2];

    return sg_cert_digest(x509, NULL, hex, bin) ? apr_pstrdup(p, hex) : NULL;
}

void sgh_diagnose_declined(sgh_gen_t *g, const char *pem)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    X509 *x509 = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    const char *hash = x509 ? sgh_diagnose_hash(g->pool, x509) : NULL;

    if (hash != NULL) {
        apr_hash_set(g->declined, hash, APR_HASH_KEY_STRING, hash);
    }
    X509_free(x509);
    BIO_free(bio);
    ERR_clear_error();
}

static void sgh_diagnose_file(sgh_gen_t *g, server_rec *s, apr_pool_t *p,
                              apr_hash_t *primed, const ap_directive_t *d)
{
    const char *args = d->args;
    const char *path = ap_server_root_relative(p, ap_getword_conf(p, &args));
    X509 *x509 = path ? sgh_diagnose_read(path) : NULL;
    const char *hash = x509 ? sgh_diagnose_hash(p, x509) : NULL;

    if (hash != NULL && apr_hash_get(primed, hash, APR_HASH_KEY_STRING) == NULL
        && apr_hash_get(g->declined, hash, APR_HASH_KEY_STRING) == NULL
        && sg_cert_ocsp_url(p, x509) != NULL
        && X509_check_issued(x509, x509) != X509_V_OK) {
        sgh_log(SGH_M_NO_ISSUER, 0, s, 0, "%s (%s:%d): certificate %s gets "
                "no OCSP stapling: httpd found no issuer certificate for it; "
                "add the intermediate (%s) to SSLCertificateFile, after the "
                "certificate", path, d->filename, d->line_num,
                sg_cert_name_str(p, X509_get_subject_name(x509)),
                sg_cert_name_str(p, X509_get_issuer_name(x509)));
    }
    X509_free(x509);
}

typedef struct {
    sgh_gen_t *g;
    server_rec *s;
    apr_pool_t *p;
    apr_hash_t *primed;
    apr_hash_t *files;      /* distinct arguments, when only counting */
} sgh_diag_ctx_t;

/* Call fn for every SSLCertificateFile directive, at any depth. */
static void sgh_diagnose_walk(const ap_directive_t *d, sgh_diag_ctx_t *ctx,
                              void (*fn)(sgh_diag_ctx_t *,
                                        const ap_directive_t *))
{
    for (; d != NULL; d = d->next) {
        if (ap_cstr_casecmp(d->directive, SGH_DIAG_DIRECTIVE) == 0) {
            fn(ctx, d);
        }
        if (d->first_child != NULL) {
            sgh_diagnose_walk(d->first_child, ctx, fn);
        }
    }
}

static void sgh_diagnose_count(sgh_diag_ctx_t *ctx, const ap_directive_t *d)
{
    apr_hash_set(ctx->files, d->args, APR_HASH_KEY_STRING, d);
}

static void sgh_diagnose_check(sgh_diag_ctx_t *ctx, const ap_directive_t *d)
{
    sgh_diagnose_file(ctx->g, ctx->s, ctx->p, ctx->primed, d);
}

void sgh_diagnose_unprimed(sgh_gen_t *g, server_rec *s, apr_pool_t *ptemp)
{
    sgh_diag_ctx_t ctx;
    int i;

    ctx.g = g;
    ctx.s = s;
    ctx.p = ptemp;
    ctx.primed = apr_hash_make(ptemp);
    ctx.files = apr_hash_make(ptemp);
    /* When there are no more files than certificates httpd offered (or
     * offered and we declined), none can be missing: spare reading them
     * all again, which with a thousand virtual hosts slows every start. */
    sgh_diagnose_walk(ap_conftree, &ctx, sgh_diagnose_count);
    if ((int)apr_hash_count(ctx.files)
        <= sg_registry_count(g->reg) + (int)apr_hash_count(g->declined)) {
        return;
    }
    for (i = 0; i < sg_registry_count(g->reg); i++) {
        sg_entry_t *e = sg_registry_at(g->reg, i);

        apr_hash_set(ctx.primed, e->cert->hash, APR_HASH_KEY_STRING, e);
    }
    sgh_diagnose_walk(ap_conftree, &ctx, sgh_diagnose_check);
}
