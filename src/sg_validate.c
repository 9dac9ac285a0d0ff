/* sg_validate.c: may this response be stapled? One straight line of rules,
 * each refusal naming the rule and the value seen. */
#include <string.h>

#include <apr_strings.h>
#include <openssl/asn1t.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include "sg_validate.h"

/* Seconds of an apr_time_t, for messages. */
/* APR's formatter knows APR_INT64_T_FMT, not "%lld" (it misreads it). */
#define SG_SEC(t) ((apr_int64_t)apr_time_sec(t))
#define SG_SEC_FMT "%" APR_INT64_T_FMT

static sg_reason_t sg_validate_status(int status)
{
    switch (status) {
    case OCSP_RESPONSE_STATUS_SUCCESSFUL:
        return SG_R_OK;
    case OCSP_RESPONSE_STATUS_MALFORMEDREQUEST:
        return SG_R_MALFORMED_REQUEST;
    case OCSP_RESPONSE_STATUS_INTERNALERROR:
        return SG_R_INTERNAL_ERROR;
    case OCSP_RESPONSE_STATUS_TRYLATER:
        return SG_R_TRY_LATER;
    case OCSP_RESPONSE_STATUS_SIGREQUIRED:
        return SG_R_SIG_REQUIRED;
    case OCSP_RESPONSE_STATUS_UNAUTHORIZED:
        return SG_R_UNAUTHORIZED;
    default:
        return SG_R_RESP_STATUS;
    }
}

/* A key identifier for humans, in hex: the extension's value as written,
 * "none" when the certificate has none. */
static const char *sg_validate_keyid(apr_pool_t *p,
                                     const ASN1_OCTET_STRING *id)
{
    char *hex = id ? OPENSSL_buf2hexstr(ASN1_STRING_get0_data(id),
                                        ASN1_STRING_length(id))
                   : NULL;
    const char *s = apr_pstrdup(p, hex ? hex : "none");

    OPENSSL_free(hex);
    return s;
}

/* The issuer's key identifier: its subjectKeyIdentifier, or without one
 * the SHA-1 of its key, as RFC 5280 4.2.1.2 derives one. */
static const char *sg_validate_issuer_keyid(apr_pool_t *p, X509 *issuer,
                                            OSSL_LIB_CTX *libctx)
{
    const ASN1_BIT_STRING *key = X509_get0_pubkey_bitstr(issuer);
    unsigned char md[EVP_MAX_MD_SIZE];
    size_t n = 0;
    char *hex;
    const char *s;

    if (X509_get0_subject_key_id(issuer) != NULL) {
        return sg_validate_keyid(p, X509_get0_subject_key_id(issuer));
    }
    if (key == NULL || !EVP_Q_digest(libctx, "SHA1", NULL, key->data,
                                     (size_t)key->length, md, &n)) {
        return "none";
    }
    hex = OPENSSL_buf2hexstr(md, (long)n);
    s = apr_pstrcat(p, "(key SHA-1) ", hex ? hex : "?", NULL);
    OPENSSL_free(hex);
    return s;
}

/* Why signer is not the issuer's. A CA re-keyed under the same name (an
 * intermediate renewed with a new key) issues certificates that name the
 * issuer and still do not chain to it: naming the issuer alone would read
 * "issued by CN=X" for a certificate issued by CN=X, so say so and show
 * both keys. */
static const char *sg_validate_not_issued(apr_pool_t *p, X509 *signer,
                                          X509 *issuer, OSSL_LIB_CTX *libctx)
{
    const char *name = sg_cert_name_str(p, X509_get_issuer_name(signer));

    if (X509_NAME_cmp(X509_get_issuer_name(signer),
                      X509_get_subject_name(issuer)) != 0) {
        return apr_pstrcat(p, "responder certificate is issued by ", name,
                           NULL);
    }
    return apr_pstrcat(p, "responder certificate is issued by a CA with the "
                       "same name as the issuer (", name, ") but a different "
                       "key: its authority key id ",
                       sg_validate_keyid(p, X509_get0_authority_key_id(signer)),
                       ", the issuer's key id ",
                       sg_validate_issuer_keyid(p, issuer, libctx),
                       NULL);
}

/* The issuer may sign itself, or delegate to a responder certificate that
 * it issued and marked with id-kp-OCSPSigning (RFC 6960 4.2.2.2). */
static sg_reason_t sg_validate_signer(sg_verdict_t *v, apr_pool_t *p,
                                      OCSP_BASICRESP *bs, const sg_cert_t *c,
                                      apr_time_t now)
{
    STACK_OF(X509) *extra = sk_X509_new_null();
    X509 *signer = NULL;
    time_t t = (time_t)apr_time_sec(now);
    sg_reason_t r = SG_R_OK;

    if (extra == NULL || !sk_X509_push(extra, c->issuer)) {
        r = SG_R_INTERNAL;
        goto out;
    }
    if (!OCSP_resp_get0_signer(bs, &signer, extra)) {
        r = SG_R_SIGNER_NOT_FOUND;
        goto out;
    }
    /* The signature with the signer's key, nothing else yet (what
     * OCSP_basic_verify() does with OCSP_NOVERIFY | OCSP_NOCHECKS), in the
     * certificate's library context. The chain rules follow one by one,
     * so each has its own reason. */
    if (X509_get0_pubkey(signer) == NULL
        || ASN1_item_verify_ex(ASN1_ITEM_rptr(OCSP_RESPDATA),
                               OCSP_resp_get0_tbs_sigalg(bs),
                               OCSP_resp_get0_signature(bs),
                               OCSP_resp_get0_respdata(bs), NULL,
                               X509_get0_pubkey(signer), c->libctx,
                               NULL) <= 0) {
        r = SG_R_BAD_SIGNATURE;
        goto out;
    }
    if (X509_cmp(signer, c->issuer) == 0) {
        goto out;
    }
    if (!sg_cert_cache_signed(c->cache, c->issuer, signer)) {
        if (X509_check_issued(c->issuer, signer) != X509_V_OK
            || X509_verify(signer, X509_get0_pubkey(c->issuer)) != 1) {
            r = SG_R_SIGNER_NOT_ISSUED;
            v->detail = sg_validate_not_issued(p, signer, c->issuer,
                                               c->libctx);
            goto out;
        }
        sg_cert_cache_set_signed(c->cache, c->issuer, signer);
    }
    if (!(X509_get_extension_flags(signer) & EXFLAG_XKUSAGE)
        || !(X509_get_extended_key_usage(signer) & XKU_OCSP_SIGN)) {
        r = SG_R_SIGNER_NOT_AUTHORIZED;
        goto out;
    }
    if (X509_cmp_time(X509_get0_notBefore(signer), &t) > 0
        || X509_cmp_time(X509_get0_notAfter(signer), &t) < 0) {
        r = SG_R_SIGNER_EXPIRED;
        v->detail = apr_psprintf(p, "responder certificate valid until " SG_SEC_FMT,
                                 SG_SEC(sg_cert_asn1_time(
                                     X509_get0_notAfter(signer))));
    }
out:
    ERR_clear_error();
    sk_X509_free(extra);
    return r;
}

/* The times, as ocspcheck checks them, and as browsers judge a staple:
 * thisUpdate not in the future beyond the skew; nextUpdate, when present,
 * after thisUpdate and not past; thisUpdate not older than the most a
 * browser accepts (max_age; no_next_lifetime without a nextUpdate, which
 * only tells that the responder promises nothing); never older than what
 * we hold. v->next_update becomes the end of what was accepted. */
static sg_reason_t sg_validate_times(sg_verdict_t *v, apr_pool_t *p,
                                     const sg_validate_args_t *a)
{
    apr_time_t own = v->response_next_update;
    apr_interval_time_t life = (own == 0 && a->no_next_lifetime < a->max_age)
                               ? a->no_next_lifetime : a->max_age;

    if (v->this_update > a->now + a->skew) {
        v->detail = apr_psprintf(p, "thisUpdate is " SG_SEC_FMT " s ahead of the local "
                                 "clock (skew allowed: " SG_SEC_FMT " s)",
                                 SG_SEC(v->this_update - a->now),
                                 SG_SEC(a->skew));
        return SG_R_NOT_YET_VALID;
    }
    if (own != 0 && own <= v->this_update) {
        v->detail = apr_psprintf(p, "nextUpdate " SG_SEC_FMT " <= thisUpdate " SG_SEC_FMT,
                                 SG_SEC(own), SG_SEC(v->this_update));
        return SG_R_BAD_WINDOW;
    }
    if (own != 0 && own <= a->now) {
        v->detail = apr_psprintf(p, "nextUpdate passed " SG_SEC_FMT " s ago",
                                 SG_SEC(a->now - own));
        return SG_R_EXPIRED;
    }
    if (v->this_update + life <= a->now) {
        v->detail = apr_psprintf(p, "thisUpdate is " SG_SEC_FMT " s old, beyond "
                                 "%s (" SG_SEC_FMT " s)",
                                 SG_SEC(a->now - v->this_update),
                                 life == a->max_age
                                 ? "StapleGuardMaxAge"
                                 : "StapleGuardNoNextUpdateLifetime, as it "
                                   "has no nextUpdate",
                                 SG_SEC(life));
        return SG_R_EXPIRED;
    }
    if (a->held_this_update != 0 && v->this_update < a->held_this_update) {
        v->detail = apr_psprintf(p, "thisUpdate " SG_SEC_FMT " s older than the held one",
                                 SG_SEC(a->held_this_update - v->this_update));
        return SG_R_OLDER_THAN_HELD;
    }
    v->next_update = v->this_update + life;
    if (own != 0 && own < v->next_update) {
        v->next_update = own;
    }
    return SG_R_OK;
}

/* The CertIDs a response may answer under besides the SHA-1 one we ask
 * with (RFC 5019): some responders of private CAs hash it with what they
 * sign with. Only the SHA-2 family: a CertID under a weak hash could be
 * made to match another issuer. */
static const char *const sg_validate_certid_mds[] = {
    "SHA256", "SHA384", "SHA512"
};

/* sg_validate_find: the certificate's own CertID could not be made (out
 * of memory). */
#define SG_VALIDATE_NO_CERTID (-2)

/* The index of the SingleResponse for this certificate, -1 when there is
 * none, or SG_VALIDATE_NO_CERTID: under SHA-1 first, then with the
 * certificate's CertID computed under each other hash a responder may use
 * (OCSP_resp_find() compares the algorithm too); *md_name says which one
 * matched, NULL for SHA-1. */
static int sg_validate_find(OCSP_BASICRESP *bs, const sg_cert_t *c,
                            const char **md_name)
{
    OCSP_CERTID *sha1 = sg_cert_certid(c, NULL);
    int i = sha1 ? OCSP_resp_find(bs, sha1, -1) : SG_VALIDATE_NO_CERTID;
    size_t k;

    OCSP_CERTID_free(sha1);
    *md_name = NULL;
    for (k = 0; i == -1 && k < sizeof(sg_validate_certid_mds)
                             / sizeof(sg_validate_certid_mds[0]); k++) {
        EVP_MD *md = EVP_MD_fetch(c->libctx, sg_validate_certid_mds[k], NULL);
        OCSP_CERTID *id = md ? sg_cert_certid(c, md) : NULL;

        i = id ? OCSP_resp_find(bs, id, -1) : -1;
        *md_name = i >= 0 ? sg_validate_certid_mds[k] : NULL;
        OCSP_CERTID_free(id);
        EVP_MD_free(md);
    }
    return i;
}

static sg_reason_t sg_validate_single(sg_verdict_t *v, apr_pool_t *p,
                                      OCSP_BASICRESP *bs, const sg_cert_t *c,
                                      const sg_validate_args_t *a)
{
    const char *md_name;
    int i = sg_validate_find(bs, c, &md_name), status, reason = -1;
    ASN1_GENERALIZEDTIME *rev = NULL, *thisupd = NULL, *nextupd = NULL;

    if (i == SG_VALIDATE_NO_CERTID) {
        return SG_R_INTERNAL;
    }
    if (i < 0) {
        return SG_R_CERTID_MISMATCH;
    }
    /* It is this certificate's answer, but mozilla::pkix matches SHA-1
     * CertIDs only and fails the connection on a staple it cannot match
     * (curl --cert-status too): stapling it would break those clients,
     * going without breaks none. Said in its own words, not as another
     * certificate's response. */
    if (md_name != NULL) {
        v->detail = apr_psprintf(p, "CertID hashed with %s", md_name);
        return SG_R_CERTID_HASH;
    }
    status = OCSP_single_get0_status(OCSP_resp_get0(bs, i), &reason, &rev,
                                     &thisupd, &nextupd);
    /* Belt and braces, as ocspcheck: a revocation time means revoked. */
    if (status == V_OCSP_CERTSTATUS_REVOKED || rev != NULL) {
        v->revoked = 1;
        v->revoked_at = sg_cert_asn1_time(rev);
    }
    else if (status != V_OCSP_CERTSTATUS_GOOD) {
        return SG_R_STATUS_UNKNOWN;
    }
    v->this_update = sg_cert_asn1_time(thisupd);
    v->response_next_update = sg_cert_asn1_time(nextupd);
    v->produced_at = sg_cert_asn1_time(OCSP_resp_get0_produced_at(bs));
    return sg_validate_times(v, p, a);
}

/* One DER header: the class and tag expected; *len gets the length. */
static int sg_validate_der(const unsigned char **p, const unsigned char *end,
                           int cls, int tag, long *len)
{
    int t, c;
    int ret = ASN1_get_object(p, len, &t, &c, (long)(end - *p));

    return !(ret & 0x80) && c == cls && t == tag;
}

/* The BasicOCSPResponse of an OCSPResponse (RFC 6960 4.2.1), decoded in
 * the certificate's library context. OCSP_response_get1_basic() would
 * decode the certificates in it in OpenSSL's default one, whose locks
 * httpd's thread needs at startup (see sg_cert_cache_t). The outer
 * structure was checked by d2i_OCSP_RESPONSE() already:
 *   OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED,
 *       responseBytes [0] EXPLICIT SEQUENCE { responseType OID,
 *                                             response OCTET STRING } } */
static OCSP_BASICRESP *sg_validate_basic(const unsigned char *der, long len,
                                         OSSL_LIB_CTX *libctx)
{
    const unsigned char *p = der, *end = der + len, *body;
    ASN1_OBJECT *type = NULL;
    OCSP_BASICRESP *bs = NULL;
    long l;

    if (!sg_validate_der(&p, end, V_ASN1_UNIVERSAL, V_ASN1_SEQUENCE, &l)
        || !sg_validate_der(&p, end, V_ASN1_UNIVERSAL, V_ASN1_ENUMERATED, &l)
        || (p += l) >= end
        || !sg_validate_der(&p, end, V_ASN1_CONTEXT_SPECIFIC, 0, &l)
        || !sg_validate_der(&p, end, V_ASN1_UNIVERSAL, V_ASN1_SEQUENCE, &l)
        || d2i_ASN1_OBJECT(&type, &p, (long)(end - p)) == NULL
        || OBJ_obj2nid(type) != NID_id_pkix_OCSP_basic
        || !sg_validate_der(&p, end, V_ASN1_UNIVERSAL, V_ASN1_OCTET_STRING,
                            &l)) {
        goto out;
    }
    body = p;
    bs = (OCSP_BASICRESP *)ASN1_item_d2i_ex(NULL, &p, l,
                                            ASN1_ITEM_rptr(OCSP_BASICRESP),
                                            libctx, NULL);
    if (bs != NULL && p != body + l) {
        OCSP_BASICRESP_free(bs);
        bs = NULL;
    }
out:
    ASN1_OBJECT_free(type);
    return bs;
}

sg_reason_t sg_validate_response(sg_verdict_t *v, apr_pool_t *p,
                                 const unsigned char *der, apr_size_t len,
                                 const sg_cert_t *cert,
                                 const sg_validate_args_t *args)
{
    const unsigned char *q = der;
    OCSP_RESPONSE *resp = NULL;
    OCSP_BASICRESP *bs = NULL;
    sg_reason_t r;

    memset(v, 0, sizeof(*v));
    resp = d2i_OCSP_RESPONSE(NULL, &q, (long)len);
    if (resp == NULL || q != der + len) {
        r = SG_R_NOT_OCSP;
        goto out;
    }
    r = sg_validate_status(OCSP_response_status(resp));
    if (r != SG_R_OK) {
        goto out;
    }
    bs = sg_validate_basic(der, (long)len, cert->libctx);
    if (bs == NULL) {
        r = SG_R_NOT_BASIC;
        goto out;
    }
    r = sg_validate_signer(v, p, bs, cert, args->now);
    if (r != SG_R_OK) {
        goto out;
    }
    r = sg_validate_single(v, p, bs, cert, args);
out:
    ERR_clear_error();
    OCSP_BASICRESP_free(bs);
    OCSP_RESPONSE_free(resp);
    return r;
}
