/* sg_crl.c: judge a CRL in place, without decoding its entries. */
#include <string.h>

#include <apr_strings.h>
#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "sg_crl.h"
#include "sg_text.h"

/* What ASN1_get_object returns for a bad header, and for a constructed
 * value of indefinite length (BER, never DER). */
#define SG_CRL_ASN1_ERROR 0x80
#define SG_CRL_ASN1_INDEFINITE 0x21
/* version v2 is INTEGER 1 */
#define SG_CRL_V2 1
/* The longest serial DER looked up: a CertID keeps no longer one. */
#define SG_CRL_SERIAL_MAX SG_CERT_CERTID_MAX

/* One DER value: where it starts, its contents, its whole size. */
typedef struct {
    const unsigned char *start;
    const unsigned char *body;
    apr_size_t body_len;
    apr_size_t total;
    int tag;
    int cls;
    int cons;
} sg_tlv_t;

/* The value at pos (before end); 0 when none reads there in DER. */
static int sg_crl_tlv(sg_tlv_t *t, const unsigned char *pos,
                      const unsigned char *end)
{
    const unsigned char *q = pos;
    long len = 0;
    int tag = 0, cls = 0, ret;

    if (pos == NULL || pos >= end) {
        return 0;
    }
    ret = ASN1_get_object(&q, &len, &tag, &cls, (long)(end - pos));
    if ((ret & SG_CRL_ASN1_ERROR) || ret == SG_CRL_ASN1_INDEFINITE
        || len < 0 || (apr_size_t)len > (apr_size_t)(end - q)) {
        ERR_clear_error();
        return 0;
    }
    t->start = pos;
    t->body = q;
    t->body_len = (apr_size_t)len;
    t->total = (apr_size_t)(q - pos) + (apr_size_t)len;
    t->tag = tag;
    t->cls = cls;
    t->cons = (ret & V_ASN1_CONSTRUCTED) != 0;
    return 1;
}

/* A universal value of tag at *pos; moves *pos past it. */
static int sg_crl_take(sg_tlv_t *t, const unsigned char **pos,
                       const unsigned char *end, int tag)
{
    if (!sg_crl_tlv(t, *pos, end) || t->cls != V_ASN1_UNIVERSAL
        || t->tag != tag) {
        return 0;
    }
    *pos = t->start + t->total;
    return 1;
}

static int sg_crl_is_time(const sg_tlv_t *t)
{
    return t->cls == V_ASN1_UNIVERSAL && (t->tag == V_ASN1_UTCTIME
                                          || t->tag == V_ASN1_GENERALIZEDTIME);
}

/* A Time value decoded (0 when it does not read). */
static apr_time_t sg_crl_time(const sg_tlv_t *t)
{
    const unsigned char *q = t->start;
    ASN1_TIME *at = d2i_ASN1_TIME(NULL, &q, (long)t->total);
    apr_time_t v = sg_cert_asn1_time(at);

    ASN1_TIME_free(at);
    return v;
}

/* The parts of a CertificateList, as found in the DER. */
typedef struct {
    sg_tlv_t tbs;           /* tbsCertList: what is signed */
    sg_tlv_t tbs_alg;       /* its signature field */
    sg_tlv_t issuer;
    sg_tlv_t this_update;
    sg_tlv_t next_update;   /* start NULL: absent */
    sg_tlv_t revoked;       /* start NULL: absent */
    sg_tlv_t exts;          /* the Extensions SEQUENCE; start NULL: none */
    sg_tlv_t alg;           /* signatureAlgorithm */
    sg_tlv_t sig;           /* signatureValue */
} sg_crl_parts_t;

/* The optional tail of tbsCertList: nextUpdate, revokedCertificates,
 * [0] crlExtensions, in this order. */
static int sg_crl_split_tail(sg_crl_parts_t *c, const unsigned char *pos,
                             const unsigned char *end)
{
    sg_tlv_t t, ext0;

    if (sg_crl_tlv(&t, pos, end) && sg_crl_is_time(&t)) {
        c->next_update = t;
        pos += t.total;
    }
    if (sg_crl_tlv(&t, pos, end) && t.cls == V_ASN1_UNIVERSAL
        && t.tag == V_ASN1_SEQUENCE) {
        c->revoked = t;
        pos += t.total;
    }
    if (sg_crl_tlv(&ext0, pos, end) && ext0.cls == V_ASN1_CONTEXT_SPECIFIC
        && ext0.tag == 0 && ext0.cons) {
        const unsigned char *in = ext0.body;

        if (!sg_crl_take(&c->exts, &in, ext0.body + ext0.body_len,
                         V_ASN1_SEQUENCE)
            || in != ext0.body + ext0.body_len) {
            return 0;
        }
        pos += ext0.total;
    }
    return pos == end;
}

/* tbsCertList: version (v2, or absent for v1), signature, issuer,
 * thisUpdate, then the optional tail. */
static int sg_crl_split_tbs(sg_crl_parts_t *c)
{
    const unsigned char *pos = c->tbs.body;
    const unsigned char *end = c->tbs.body + c->tbs.body_len;
    sg_tlv_t v;

    if (sg_crl_tlv(&v, pos, end) && v.cls == V_ASN1_UNIVERSAL
        && v.tag == V_ASN1_INTEGER) {
        if (v.body_len != 1 || v.body[0] != SG_CRL_V2) {
            return 0;
        }
        pos += v.total;
    }
    if (!sg_crl_take(&c->tbs_alg, &pos, end, V_ASN1_SEQUENCE)
        || !sg_crl_take(&c->issuer, &pos, end, V_ASN1_SEQUENCE)
        || !sg_crl_tlv(&c->this_update, pos, end)
        || !sg_crl_is_time(&c->this_update)) {
        return 0;
    }
    pos += c->this_update.total;
    return sg_crl_split_tail(c, pos, end);
}

/* CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm,
 * signatureValue }, and nothing after it: a download cut short reads as
 * a length beyond the bytes. */
static int sg_crl_split(sg_crl_parts_t *c, const unsigned char *der,
                        apr_size_t len)
{
    const unsigned char *end = der + len, *pos = der, *in;
    sg_tlv_t outer;

    memset(c, 0, sizeof(*c));
    if (!sg_crl_take(&outer, &pos, end, V_ASN1_SEQUENCE) || pos != end) {
        return 0;
    }
    in = outer.body;
    end = outer.body + outer.body_len;
    return sg_crl_take(&c->tbs, &in, end, V_ASN1_SEQUENCE)
           && sg_crl_take(&c->alg, &in, end, V_ASN1_SEQUENCE)
           && sg_crl_take(&c->sig, &in, end, V_ASN1_BIT_STRING)
           && in == end && sg_crl_split_tbs(c);
}

/* The issuer named as the issuer certificate's subject, byte for byte
 * (RFC 5280 7.1 allows a looser comparison; CAs copy the bytes). */
static sg_reason_t sg_crl_check_issuer(const sg_crl_parts_t *c,
                                       apr_pool_t *p, X509 *issuer,
                                       const char **detail)
{
    const unsigned char *der = NULL;
    size_t len = 0;
    const unsigned char *q = c->issuer.start;
    X509_NAME *name;

    if (X509_NAME_get0_der(X509_get_subject_name(issuer), &der, &len)
        && len == c->issuer.total && memcmp(der, c->issuer.start, len) == 0) {
        return SG_R_OK;
    }
    name = d2i_X509_NAME(NULL, &q, (long)c->issuer.total);
    *detail = apr_pstrcat(p, "issuer ", name ? sg_cert_name_str(p, name)
                                             : "(unreadable)", NULL);
    X509_NAME_free(name);
    return SG_R_CRL_WRONG_ISSUER;
}

/* The digest a signature algorithm names: *md NULL for EdDSA, which
 * hashes by itself. 0: an algorithm not checked here (RSA-PSS). */
static int sg_crl_sig_md(const X509_ALGOR *alg, const EVP_MD **md,
                         const char **name)
{
    int nid = OBJ_obj2nid(alg->algorithm), md_nid = NID_undef;
    int pk_nid = NID_undef;

    *name = nid != NID_undef ? OBJ_nid2sn(nid) : "unknown";
    if (!OBJ_find_sigid_algs(nid, &md_nid, &pk_nid)
        || pk_nid == NID_rsassaPss) {
        return 0;
    }
    *md = md_nid == NID_undef ? NULL : EVP_get_digestbynid(md_nid);
    return md_nid == NID_undef || *md != NULL;
}

/* The signature over the tbsCertList bytes with the issuer's key; the
 * algorithm inside tbsCertList must be the one outside (RFC 5280
 * 5.1.1.2), or a signature could be made to mean another one. */
static sg_reason_t sg_crl_check_signature(const sg_crl_parts_t *c,
                                          apr_pool_t *p, X509 *issuer,
                                          const char **detail)
{
    const unsigned char *q = c->alg.start, *s = c->sig.start;
    X509_ALGOR *alg = d2i_X509_ALGOR(NULL, &q, (long)c->alg.total);
    ASN1_BIT_STRING *sig = d2i_ASN1_BIT_STRING(NULL, &s, (long)c->sig.total);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY *key = X509_get0_pubkey(issuer);
    const EVP_MD *md = NULL;
    const char *name = "unknown";
    sg_reason_t r = SG_R_CRL_BAD_SIGNATURE;

    if (alg == NULL || sig == NULL || c->alg.total != c->tbs_alg.total
        || memcmp(c->alg.start, c->tbs_alg.start, c->alg.total) != 0) {
        *detail = "the signature algorithm is unreadable or differs from "
                  "the one inside tbsCertList";
        r = alg == NULL || sig == NULL ? SG_R_CRL_NOT_CRL : r;
    }
    else if (!sg_crl_sig_md(alg, &md, &name)) {
        *detail = apr_pstrcat(p, "algorithm ", name, NULL);
        r = SG_R_CRL_UNSUPPORTED_ALG;
    }
    else if (ctx == NULL || key == NULL) {
        r = SG_R_INTERNAL;
    }
    else if (EVP_DigestVerifyInit(ctx, NULL, md, NULL, key) == 1
             && EVP_DigestVerify(ctx, ASN1_STRING_get0_data(sig),
                                 (size_t)ASN1_STRING_length(sig),
                                 c->tbs.start, c->tbs.total) == 1) {
        r = SG_R_OK;
    }
    else {
        *detail = apr_pstrcat(p, "algorithm ", name, NULL);
    }
    EVP_MD_CTX_free(ctx);
    ASN1_BIT_STRING_free(sig);
    X509_ALGOR_free(alg);
    ERR_clear_error();
    return r;
}

/* Does the distribution point name url among its full names? */
static int sg_crl_idp_names(const ISSUING_DIST_POINT *idp, const char *url)
{
    const GENERAL_NAMES *names;
    int i;

    if (idp->distpoint == NULL) {
        return 1;       /* no name: the CRL covers the whole scope */
    }
    if (idp->distpoint->type != 0) {
        return 0;       /* relative to the issuer: names no URL */
    }
    names = idp->distpoint->name.fullname;
    for (i = 0; i < sk_GENERAL_NAME_num(names); i++) {
        const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
        const ASN1_IA5STRING *u = gn->d.uniformResourceIdentifier;

        if (gn->type == GEN_URI && url != NULL
            && (size_t)ASN1_STRING_length(u) == strlen(url)
            && memcmp(ASN1_STRING_get0_data(u), url, strlen(url)) == 0) {
            return 1;
        }
    }
    return 0;
}

/* The issuing distribution point: indirect, partial scope, or naming
 * another URL (the CRL of another partition) are refused. */
static sg_reason_t sg_crl_check_idp(X509_EXTENSION *ext, apr_pool_t *p,
                                    const char *url, const char **detail)
{
    ISSUING_DIST_POINT *idp = X509V3_EXT_d2i(ext);
    sg_reason_t r = SG_R_OK;

    if (idp == NULL) {
        r = SG_R_CRL_NOT_CRL;
        *detail = "the issuing distribution point is unreadable";
    }
    else if (idp->indirectCRL) {
        r = SG_R_CRL_INDIRECT;
    }
    else if (idp->onlyCA || idp->onlyattr || idp->onlysomereasons) {
        r = SG_R_CRL_SCOPE;
    }
    else if (!sg_crl_idp_names(idp, url)) {
        r = SG_R_CRL_IDP_MISMATCH;
        *detail = apr_pstrcat(p, "downloaded from ", url, NULL);
    }
    ISSUING_DIST_POINT_free(idp);
    return r;
}

/* Whether an extension is one whose meaning is known here: CRL number,
 * authority key identifier, freshest CRL (a pointer to deltas, which are
 * not used) and those checked by name. */
static int sg_crl_ext_known(int nid)
{
    return nid == NID_crl_number || nid == NID_authority_key_identifier
           || nid == NID_freshest_crl || nid == NID_issuing_distribution_point
           || nid == NID_delta_crl;
}

/* crlExtensions: a delta CRL first (its own id, whatever else it has),
 * then the issuing distribution point, then any other critical one. */
static sg_reason_t sg_crl_check_exts(const sg_crl_parts_t *c, apr_pool_t *p,
                                     const char *url, const char **detail)
{
    const unsigned char *q = c->exts.start;
    STACK_OF(X509_EXTENSION) *exts;
    sg_reason_t r = SG_R_OK;
    int i, nid;

    if (c->exts.start == NULL) {
        return SG_R_OK;
    }
    exts = d2i_X509_EXTENSIONS(NULL, &q, (long)c->exts.total);
    if (exts == NULL) {
        *detail = "the CRL's extensions are unreadable";
        return SG_R_CRL_NOT_CRL;
    }
    if (X509v3_get_ext_by_NID(exts, NID_delta_crl, -1) >= 0) {
        r = SG_R_CRL_DELTA;
    }
    for (i = 0; r == SG_R_OK && i < sk_X509_EXTENSION_num(exts); i++) {
        X509_EXTENSION *ext = sk_X509_EXTENSION_value(exts, i);

        nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));
        if (nid == NID_issuing_distribution_point) {
            r = sg_crl_check_idp(ext, p, url, detail);
        }
        else if (X509_EXTENSION_get_critical(ext) && !sg_crl_ext_known(nid)) {
            *detail = apr_pstrcat(p, "extension ", nid != NID_undef
                                  ? OBJ_nid2sn(nid) : "(unknown)", NULL);
            r = SG_R_CRL_CRITICAL;
        }
    }
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    ERR_clear_error();
    return r;
}

/* thisUpdate not ahead of the clock beyond the skew, nextUpdate (when
 * given) after it and not passed beyond the grace. */
static sg_reason_t sg_crl_check_times(sg_crl_t *crl, apr_pool_t *p,
                                      const sg_crl_parts_t *c,
                                      const sg_crl_args_t *a,
                                      const char **detail)
{
    crl->this_update = sg_crl_time(&c->this_update);
    crl->next_update = c->next_update.start ? sg_crl_time(&c->next_update)
                                            : 0;
    if (crl->this_update == 0
        || (c->next_update.start != NULL && crl->next_update == 0)) {
        *detail = "a time is unreadable";
        return SG_R_CRL_NOT_CRL;
    }
    if (crl->this_update > a->now + a->skew) {
        *detail = apr_pstrcat(p, "thisUpdate ",
                              sg_text_time(p, crl->this_update), NULL);
        return SG_R_CRL_NOT_YET_VALID;
    }
    if (crl->next_update != 0 && crl->next_update <= crl->this_update) {
        *detail = apr_pstrcat(p, "nextUpdate ",
                              sg_text_time(p, crl->next_update), NULL);
        return SG_R_CRL_BAD_WINDOW;
    }
    if (crl->next_update != 0 && crl->next_update + a->grace < a->now) {
        *detail = apr_pstrcat(p, "nextUpdate ",
                              sg_text_time(p, crl->next_update), NULL);
        return SG_R_CRL_EXPIRED;
    }
    return SG_R_OK;
}

sg_reason_t sg_crl_open(sg_crl_t *crl, apr_pool_t *p,
                        const unsigned char *der, apr_size_t len,
                        X509 *issuer, const sg_crl_args_t *args,
                        const char **detail)
{
    sg_crl_parts_t c;
    sg_reason_t r;

    memset(crl, 0, sizeof(*crl));
    *detail = NULL;
    if (der == NULL || !sg_crl_split(&c, der, len)) {
        return SG_R_CRL_NOT_CRL;
    }
    r = sg_crl_check_issuer(&c, p, issuer, detail);
    if (r == SG_R_OK) {
        r = sg_crl_check_signature(&c, p, issuer, detail);
    }
    if (r == SG_R_OK) {
        r = sg_crl_check_exts(&c, p, args->url, detail);
    }
    if (r == SG_R_OK) {
        r = sg_crl_check_times(crl, p, &c, args, detail);
    }
    if (r == SG_R_OK && c.revoked.start != NULL) {
        crl->revoked = c.revoked.body;
        crl->revoked_len = c.revoked.body_len;
    }
    return r;
}

/* The found entry's extensions: its reason code; a certificateIssuer
 * says the entry (and those after it) belong to another CA. */
static sg_reason_t sg_crl_entry_exts(sg_crl_verdict_t *v, const sg_tlv_t *t)
{
    const unsigned char *q = t->start;
    STACK_OF(X509_EXTENSION) *exts = d2i_X509_EXTENSIONS(NULL, &q,
                                                         (long)t->total);
    ASN1_ENUMERATED *code;
    sg_reason_t r = SG_R_OK;
    int i, nid;

    if (exts == NULL) {
        ERR_clear_error();
        return SG_R_CRL_NOT_CRL;
    }
    for (i = 0; r == SG_R_OK && i < sk_X509_EXTENSION_num(exts); i++) {
        X509_EXTENSION *ext = sk_X509_EXTENSION_value(exts, i);

        nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));
        if (nid == NID_certificate_issuer) {
            r = SG_R_CRL_INDIRECT;
        }
        else if (nid == NID_crl_reason
                 && (code = X509V3_EXT_d2i(ext)) != NULL) {
            v->reason = (int)ASN1_ENUMERATED_get(code);
            ASN1_ENUMERATED_free(code);
        }
        else if (X509_EXTENSION_get_critical(ext)
                 && nid != NID_invalidity_date && nid != NID_crl_reason) {
            r = SG_R_CRL_CRITICAL;
        }
    }
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    ERR_clear_error();
    return r;
}

/* An entry found: revocationDate, then its optional extensions. */
static sg_reason_t sg_crl_entry(sg_crl_verdict_t *v, const sg_tlv_t *entry,
                                const unsigned char *pos)
{
    const unsigned char *end = entry->body + entry->body_len;
    sg_tlv_t date, exts;

    if (!sg_crl_tlv(&date, pos, end) || !sg_crl_is_time(&date)
        || (v->revoked_at = sg_crl_time(&date)) == 0) {
        return SG_R_CRL_NOT_CRL;
    }
    pos += date.total;
    v->revoked = 1;
    if (pos == end) {
        return SG_R_OK;
    }
    pos = date.start + date.total;
    if (!sg_crl_take(&exts, &pos, end, V_ASN1_SEQUENCE) || pos != end) {
        return SG_R_CRL_NOT_CRL;
    }
    return sg_crl_entry_exts(v, &exts);
}

/* The serial's contents as DER has them: the same bytes as an entry's
 * userCertificate for the same number (DER integers are minimal). */
static apr_size_t sg_crl_serial(const ASN1_INTEGER *serial,
                                unsigned char *buf, const unsigned char **body)
{
    unsigned char *q = buf;
    int len = i2d_ASN1_INTEGER((ASN1_INTEGER *)serial, NULL);
    sg_tlv_t t;

    if (len <= 0 || len > SG_CRL_SERIAL_MAX) {
        return 0;
    }
    i2d_ASN1_INTEGER((ASN1_INTEGER *)serial, &q);
    if (!sg_crl_tlv(&t, buf, buf + len)) {
        return 0;
    }
    *body = t.body;
    return t.body_len;
}

sg_reason_t sg_crl_lookup(sg_crl_verdict_t *v, const sg_crl_t *crl,
                          const ASN1_INTEGER *serial)
{
    unsigned char buf[SG_CRL_SERIAL_MAX];
    const unsigned char *want = NULL, *pos = crl->revoked, *in;
    const unsigned char *end = crl->revoked + crl->revoked_len;
    apr_size_t want_len = sg_crl_serial(serial, buf, &want);
    sg_tlv_t entry, num;

    memset(v, 0, sizeof(*v));
    v->reason = SG_CRL_REASON_NONE;
    v->this_update = crl->this_update;
    v->next_update = crl->next_update;
    if (want_len == 0) {
        return SG_R_INTERNAL;
    }
    /* One entry after the other, nothing allocated: a million entries
     * cost what their bytes cost, already in memory. */
    while (pos != NULL && pos < end) {
        if (!sg_crl_take(&entry, &pos, end, V_ASN1_SEQUENCE)) {
            return SG_R_CRL_NOT_CRL;
        }
        in = entry.body;
        if (!sg_crl_take(&num, &in, entry.body + entry.body_len,
                         V_ASN1_INTEGER)) {
            return SG_R_CRL_NOT_CRL;
        }
        if (num.body_len == want_len
            && memcmp(num.body, want, want_len) == 0) {
            return sg_crl_entry(v, &entry, in);
        }
    }
    return SG_R_OK;
}

sg_reason_t sg_crl_judge(sg_crl_verdict_t *v, apr_pool_t *p,
                         const unsigned char *der, apr_size_t len,
                         const sg_cert_t *c, const sg_crl_args_t *args)
{
    OCSP_CERTID *id = sg_cert_certid(c, NULL);
    ASN1_INTEGER *serial = NULL;
    const char *detail = NULL;
    sg_crl_t crl;
    sg_reason_t r;

    memset(v, 0, sizeof(*v));
    v->reason = SG_CRL_REASON_NONE;
    if (id == NULL || !OCSP_id_get0_info(NULL, NULL, NULL, &serial, id)) {
        r = SG_R_INTERNAL;
    }
    else {
        r = sg_crl_open(&crl, p, der, len, c->issuer, args, &detail);
    }
    if (r == SG_R_OK) {
        r = sg_crl_lookup(v, &crl, serial);
    }
    v->detail = detail;
    OCSP_CERTID_free(id);
    return r;
}

static const char *const sg_crl_reasons[] = {
    "unspecified", "keyCompromise", "cACompromise", "affiliationChanged",
    "superseded", "cessationOfOperation", "certificateHold", "(7)",
    "removeFromCRL", "privilegeWithdrawn", "aACompromise"
};

const char *sg_crl_reason_name(int reason)
{
    if (reason == SG_CRL_REASON_NONE) {
        return "unspecified (none given)";
    }
    return (reason >= 0 && (apr_size_t)reason < sizeof(sg_crl_reasons)
                                                / sizeof(sg_crl_reasons[0]))
           ? sg_crl_reasons[reason] : "(unknown)";
}
