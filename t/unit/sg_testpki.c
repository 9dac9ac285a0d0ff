/* sg_testpki.c: the test PKI and OCSP response builder (see sg_testpki.h). */
#include <string.h>

#include <apr_network_io.h>
#include <apr_strings.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "sg_testpki.h"

#define TP_CURVE        "P-256"
#define TP_ORG          "mod_staple_guard unit tests"
/* Revocation reason written into revoked responses; any would do. */
#define TP_REVOCATION_REASON OCSP_REVOKED_STATUS_KEYCOMPROMISE

/* One X.509v3 extension in OpenSSL's config syntax. */
typedef struct {
    int nid;
    const char *value;
} tp_ext_t;

/* What a certificate looks like, apart from its issuer. */
typedef struct {
    const char *cn;
    long serial;
    long not_before;        /* seconds from now */
    long not_after;         /* seconds from now */
    const tp_ext_t *exts;   /* ends with NID_undef */
} tp_spec_t;

/* Validity periods: wide around now, except for the expired responder. */
#define TP_VALID_FROM       (-TP_DAY)
#define TP_CA_VALID_UNTIL   (365L * TP_DAY)
#define TP_EE_VALID_UNTIL   (90L * TP_DAY)
#define TP_EXPIRED_FROM     (-30L * TP_DAY)
#define TP_EXPIRED_UNTIL    (-TP_DAY)

static const tp_ext_t tp_exts_ca[] = {
    { NID_basic_constraints, "critical,CA:TRUE" },
    { NID_key_usage, "critical,keyCertSign,cRLSign" },
    { NID_subject_key_identifier, "hash" },
    { NID_undef, NULL }
};

static const tp_ext_t tp_exts_leaf[] = {
    { NID_basic_constraints, "critical,CA:FALSE" },
    { NID_key_usage, "critical,digitalSignature" },
    { NID_ext_key_usage, "serverAuth" },
    { NID_authority_key_identifier, "keyid:always" },
    { NID_info_access, "OCSP;URI:" TP_OCSP_URL },
    { NID_undef, NULL }
};

static const tp_ext_t tp_exts_leaf_no_aia[] = {
    { NID_basic_constraints, "critical,CA:FALSE" },
    { NID_key_usage, "critical,digitalSignature" },
    { NID_ext_key_usage, "serverAuth" },
    { NID_authority_key_identifier, "keyid:always" },
    { NID_undef, NULL }
};

static const tp_ext_t tp_exts_leaf_must_staple[] = {
    { NID_basic_constraints, "critical,CA:FALSE" },
    { NID_key_usage, "critical,digitalSignature" },
    { NID_ext_key_usage, "serverAuth" },
    { NID_authority_key_identifier, "keyid:always" },
    { NID_info_access, "OCSP;URI:" TP_OCSP_URL },
    { NID_tlsfeature, "status_request" },
    { NID_undef, NULL }
};

static const tp_ext_t tp_exts_responder[] = {
    { NID_basic_constraints, "critical,CA:FALSE" },
    { NID_key_usage, "critical,digitalSignature" },
    { NID_ext_key_usage, "OCSPSigning" },
    { NID_authority_key_identifier, "keyid:always" },
    { NID_undef, NULL }
};

static const tp_ext_t tp_exts_responder_no_eku[] = {
    { NID_basic_constraints, "critical,CA:FALSE" },
    { NID_key_usage, "critical,digitalSignature" },
    { NID_authority_key_identifier, "keyid:always" },
    { NID_undef, NULL }
};

/* No authorityKeyIdentifier: with one, X509_check_issued() would already
 * see that the key differs; without, only the signature check can. */
static const tp_ext_t tp_exts_impostor[] = {
    { NID_basic_constraints, "critical,CA:FALSE" },
    { NID_key_usage, "critical,digitalSignature" },
    { NID_ext_key_usage, "OCSPSigning" },
    { NID_undef, NULL }
};

static const tp_spec_t tp_spec_ca = {
    "Staple Guard Test CA", 1, TP_VALID_FROM, TP_CA_VALID_UNTIL, tp_exts_ca
};
static const tp_spec_t tp_spec_other_ca = {
    "Unrelated Test CA", 1, TP_VALID_FROM, TP_CA_VALID_UNTIL, tp_exts_ca
};
static const tp_spec_t tp_spec_leaf = {
    "leaf.test", TP_LEAF_SERIAL, TP_VALID_FROM, TP_EE_VALID_UNTIL,
    tp_exts_leaf
};
static const tp_spec_t tp_spec_leaf_no_aia = {
    "no-aia.test", TP_LEAF_NO_AIA_SERIAL, TP_VALID_FROM, TP_EE_VALID_UNTIL,
    tp_exts_leaf_no_aia
};
static const tp_spec_t tp_spec_leaf_must_staple = {
    "must-staple.test", TP_LEAF_MUST_STAPLE_SERIAL, TP_VALID_FROM,
    TP_EE_VALID_UNTIL, tp_exts_leaf_must_staple
};
static const tp_spec_t tp_spec_responder = {
    "Test OCSP Responder", 0x2001, TP_VALID_FROM, TP_EE_VALID_UNTIL,
    tp_exts_responder
};
static const tp_spec_t tp_spec_responder_no_eku = {
    "Test Responder Without EKU", 0x2002, TP_VALID_FROM, TP_EE_VALID_UNTIL,
    tp_exts_responder_no_eku
};
static const tp_spec_t tp_spec_responder_expired = {
    "Expired Test Responder", 0x2003, TP_EXPIRED_FROM, TP_EXPIRED_UNTIL,
    tp_exts_responder
};
static const tp_spec_t tp_spec_other_responder = {
    "Unrelated OCSP Responder", 0x2004, TP_VALID_FROM, TP_EE_VALID_UNTIL,
    tp_exts_responder
};
static const tp_spec_t tp_spec_impostor_responder = {
    "Impostor OCSP Responder", 0x2005, TP_VALID_FROM, TP_EE_VALID_UNTIL,
    tp_exts_impostor
};

static const tp_spec_t tp_spec_rekeyed_responder = {
    "Re-keyed CA's OCSP Responder", 0x2006, TP_VALID_FROM, TP_EE_VALID_UNTIL,
    tp_exts_responder
};

static int tp_set_name(X509_NAME *name, const char *cn)
{
    return X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                      (const unsigned char *)TP_ORG, -1, -1, 0)
           && X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                         (const unsigned char *)cn, -1, -1, 0);
}

/* issuer is the certificate whose extensions (subject key id) the new
 * one refers to: x itself when self-signed. */
static int tp_add_exts(X509 *x, X509 *issuer, const tp_ext_t *exts)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;
    int ok;

    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    for (; exts->nid != NID_undef; exts++) {
        ext = X509V3_EXT_conf_nid(NULL, &ctx, exts->nid, exts->value);
        ok = ext != NULL && X509_add_ext(x, ext, -1);
        X509_EXTENSION_free(ext);
        if (!ok) {
            return 0;
        }
    }
    return 1;
}

/* Make out a key and a certificate per spec, named as issued by issuer
 * and signed with sign_key; issuer NULL means self-signed. The two are
 * separate so that the impostor can name one CA and be signed by another. */
static int tp_issue(tp_ident_t *out, const tp_spec_t *spec, X509 *issuer,
                    EVP_PKEY *sign_key, time_t now)
{
    X509 *x;

    out->key = EVP_EC_gen(TP_CURVE);
    out->cert = x = X509_new();
    if (out->key == NULL || x == NULL) {
        return 0;
    }
    if (issuer == NULL) {
        issuer = x;
        sign_key = out->key;
    }
    return X509_set_version(x, X509_VERSION_3)
           && ASN1_INTEGER_set(X509_get_serialNumber(x), spec->serial)
           && X509_time_adj_ex(X509_getm_notBefore(x), 0, spec->not_before,
                               &now) != NULL
           && X509_time_adj_ex(X509_getm_notAfter(x), 0, spec->not_after,
                               &now) != NULL
           && tp_set_name(X509_get_subject_name(x), spec->cn)
           && X509_set_issuer_name(x, X509_get_subject_name(issuer))
           && X509_set_pubkey(x, out->key)
           && tp_add_exts(x, issuer, spec->exts)
           && X509_sign(x, sign_key, EVP_sha256()) > 0;
}

static int tp_issue_by(tp_ident_t *out, const tp_spec_t *spec,
                       const tp_ident_t *ca, time_t now)
{
    return tp_issue(out, spec, ca->cert, ca->key, now);
}

/* The same CA, as another CA vouches for it: a copy of ca's certificate
 * with other_ca as issuer, signed by other_ca. It shares ca's key. */
static int tp_cross_sign(tp_ident_t *out, const tp_ident_t *ca,
                         const tp_ident_t *by)
{
    out->cert = X509_dup(ca->cert);
    if (out->cert == NULL || !EVP_PKEY_up_ref(ca->key)) {
        return 0;
    }
    out->key = ca->key;
    return X509_set_issuer_name(out->cert, X509_get_subject_name(by->cert))
           && X509_sign(out->cert, by->key, EVP_sha256()) > 0;
}

int tp_pki_create(tp_pki_t *pki, time_t now)
{
    int ok;

    memset(pki, 0, sizeof(*pki));
    ok = tp_issue(&pki->ca, &tp_spec_ca, NULL, NULL, now)
         && tp_issue(&pki->other_ca, &tp_spec_other_ca, NULL, NULL, now)
         && tp_issue_by(&pki->leaf, &tp_spec_leaf, &pki->ca, now)
         && tp_issue_by(&pki->leaf_no_aia, &tp_spec_leaf_no_aia, &pki->ca, now)
         && tp_issue_by(&pki->leaf_must_staple, &tp_spec_leaf_must_staple,
                        &pki->ca, now)
         && tp_issue_by(&pki->responder, &tp_spec_responder, &pki->ca, now)
         && tp_issue_by(&pki->responder_no_eku, &tp_spec_responder_no_eku,
                        &pki->ca, now)
         && tp_issue_by(&pki->responder_expired, &tp_spec_responder_expired,
                        &pki->ca, now)
         && tp_issue_by(&pki->other_responder, &tp_spec_other_responder,
                        &pki->other_ca, now)
         && tp_issue(&pki->impostor_responder, &tp_spec_impostor_responder,
                     pki->ca.cert, pki->other_ca.key, now)
         && tp_cross_sign(&pki->ca_cross, &pki->ca, &pki->other_ca)
         && tp_issue(&pki->ca_rekeyed, &tp_spec_ca, NULL, NULL, now)
         && tp_issue_by(&pki->rekeyed_responder, &tp_spec_rekeyed_responder,
                        &pki->ca_rekeyed, now);
    if (!ok) {
        tp_pki_free(pki);
    }
    return ok;
}

static void tp_ident_free(tp_ident_t *id)
{
    X509_free(id->cert);
    EVP_PKEY_free(id->key);
    id->cert = NULL;
    id->key = NULL;
}

void tp_pki_free(tp_pki_t *pki)
{
    tp_ident_t *all[] = {
        &pki->ca, &pki->leaf, &pki->leaf_no_aia, &pki->leaf_must_staple,
        &pki->responder, &pki->responder_no_eku, &pki->responder_expired,
        &pki->other_ca, &pki->other_responder, &pki->impostor_responder,
        &pki->ca_cross, &pki->ca_rekeyed, &pki->rekeyed_responder
    };
    size_t i;

    for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        tp_ident_free(all[i]);
    }
}

/* PEM of first, then of second unless it is NULL. */
static const char *tp_pem(apr_pool_t *p, X509 *first, X509 *second)
{
    BIO *bio = BIO_new(BIO_s_mem());
    const char *pem = NULL;
    char *data;
    long len;

    if (bio != NULL && PEM_write_bio_X509(bio, first)
        && (second == NULL || PEM_write_bio_X509(bio, second))) {
        len = BIO_get_mem_data(bio, &data);
        pem = apr_pstrmemdup(p, data, (apr_size_t)len);
    }
    BIO_free(bio);
    return pem;
}

const char *tp_pem_chain(apr_pool_t *p, X509 *leaf, X509 *issuer)
{
    return tp_pem(p, leaf, issuer);
}

const char *tp_pem_leaf(apr_pool_t *p, X509 *leaf)
{
    return tp_pem(p, leaf, NULL);
}

tp_resp_t tp_resp_default(const tp_pki_t *pki, time_t now)
{
    tp_resp_t a;

    memset(&a, 0, sizeof(a));
    a.leaf = pki->leaf.cert;
    a.issuer = pki->ca.cert;
    a.signer = pki->ca.cert;
    a.signer_key = pki->ca.key;
    a.status = V_OCSP_CERTSTATUS_GOOD;
    a.now = now;
    a.this_update = -TP_HOUR;
    a.next_update = 7 * TP_DAY;
    a.revoked_at = -TP_DAY;
    return a;
}

/* The CertID of the leaf, or of another serial of the same issuer: SHA-1
 * (as the module asks) unless a says another hash. */
static OCSP_CERTID *tp_certid(const tp_resp_t *a)
{
    const EVP_MD *md = a->certid_md ? a->certid_md : EVP_sha1();
    ASN1_INTEGER *serial;
    OCSP_CERTID *id = NULL;

    if (!a->other_serial) {
        return OCSP_cert_to_id(md, a->leaf, a->issuer);
    }
    serial = ASN1_INTEGER_new();
    if (serial != NULL && ASN1_INTEGER_set(serial, TP_OTHER_SERIAL)) {
        id = OCSP_cert_id_new(md, X509_get_subject_name(a->issuer),
                              X509_get0_pubkey_bitstr(a->issuer), serial);
    }
    ASN1_INTEGER_free(serial);
    return id;
}

static ASN1_TIME *tp_time(time_t now, long offset)
{
    return ASN1_TIME_adj(NULL, now, 0, offset);
}

/* Add the single response a describes to bs. */
static int tp_add_status(OCSP_BASICRESP *bs, const tp_resp_t *a)
{
    int revoked = (a->status == V_OCSP_CERTSTATUS_REVOKED);
    OCSP_CERTID *id = tp_certid(a);
    ASN1_TIME *thisupd = tp_time(a->now, a->this_update);
    ASN1_TIME *nextupd = a->no_next_update ? NULL
                                           : tp_time(a->now, a->next_update);
    ASN1_TIME *revtime = revoked ? tp_time(a->now, a->revoked_at) : NULL;
    int ok = id != NULL && thisupd != NULL
             && (a->no_next_update || nextupd != NULL)
             && (!revoked || revtime != NULL)
             && OCSP_basic_add1_status(bs, id, a->status,
                                       revoked ? TP_REVOCATION_REASON
                                               : OCSP_REVOKED_STATUS_NOSTATUS,
                                       revtime, thisupd, nextupd) != NULL;

    /* add1 copied all of these */
    OCSP_CERTID_free(id);
    ASN1_TIME_free(thisupd);
    ASN1_TIME_free(nextupd);
    ASN1_TIME_free(revtime);
    return ok;
}

unsigned char *tp_response_der(apr_pool_t *p, const tp_resp_t *a,
                               apr_size_t *len)
{
    OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
    OCSP_RESPONSE *resp = NULL;
    unsigned char *der = NULL, *copy = NULL;
    int n;

    *len = 0;
    if (bs == NULL || !tp_add_status(bs, a)
        || !OCSP_basic_sign(bs, a->signer, a->signer_key, EVP_sha256(), NULL,
                            a->no_certs ? OCSP_NOCERTS : 0)) {
        goto out;
    }
    resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs);
    if (resp == NULL) {
        goto out;
    }
    n = i2d_OCSP_RESPONSE(resp, &der);
    if (n > 0) {
        copy = apr_pmemdup(p, der, (apr_size_t)n);
        *len = (apr_size_t)n;
    }
out:
    OPENSSL_free(der);
    OCSP_RESPONSE_free(resp);
    OCSP_BASICRESP_free(bs);
    return copy;
}

void tp_response_unsuccessful(unsigned char out[TP_UNSUCCESSFUL_LEN],
                              int status)
{
    out[0] = 0x30;      /* SEQUENCE */
    out[1] = 0x03;      /*   of 3 bytes: */
    out[2] = 0x0A;      /*   ENUMERATED responseStatus */
    out[3] = 0x01;      /*     of 1 byte */
    out[4] = (unsigned char)status;
}

int tp_closed_port(apr_pool_t *p)
{
    apr_sockaddr_t *sa;
    apr_socket_t *s;
    int port = 0;

    if (apr_sockaddr_info_get(&sa, "127.0.0.1", APR_INET, 0, 0, p)
            == APR_SUCCESS
        && apr_socket_create(&s, APR_INET, SOCK_STREAM, APR_PROTO_TCP, p)
            == APR_SUCCESS) {
        if (apr_socket_bind(s, sa) == APR_SUCCESS
            && apr_socket_addr_get(&sa, APR_LOCAL, s) == APR_SUCCESS) {
            port = sa->port;
        }
        apr_socket_close(s);
    }
    return port;
}
