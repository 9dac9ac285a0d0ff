/* sgc_show.c: staple-guard show FILE.ocsp: what a store file holds, read
 * without trusting it. The format is checked (magic, length, checksum)
 * against the certificate hash the file itself names; the response is
 * only parsed, never verified: that needs the certificate and its issuer
 * (`staple-guard check`, or the module at its next start). */
#include <stdio.h>
#include <string.h>

#include <apr_strings.h>
#include <openssl/ocsp.h>

#include "sg_cert.h"
#include "sg_store.h"
#include "sg_table.h"
#include "sg_text.h"
#include "sgc.h"

#define SGC_SHOW_UNVERIFIED "response (not verified)"

static const char *sgc_show_hex(apr_pool_t *p, const unsigned char *bin,
                                apr_size_t len)
{
    char *hex = apr_palloc(p, len * 2 + 1);
    apr_size_t i;

    for (i = 0; i < len; i++) {
        apr_snprintf(hex + i * 2, 3, "%02x", bin[i]);
    }
    hex[len * 2] = '\0';
    return hex;
}

static const char *sgc_show_time(apr_pool_t *p, const ASN1_GENERALIZEDTIME *t)
{
    const char *s = t ? sg_text_time(p, sg_cert_asn1_time(t)) : NULL;

    return s ? s : "none";
}

/* One certificate's status in the response. */
static void sgc_show_single(apr_pool_t *p, OCSP_SINGLERESP *single)
{
    ASN1_GENERALIZEDTIME *rev = NULL, *thisupd = NULL, *nextupd = NULL;
    ASN1_INTEGER *serial = NULL;
    BIGNUM *bn;
    char *hex = NULL;
    int reason, st;

    st = OCSP_single_get0_status(single, &reason, &rev, &thisupd, &nextupd);
    OCSP_id_get0_info(NULL, NULL, NULL, &serial,
                      (OCSP_CERTID *)OCSP_SINGLERESP_get0_id(single));
    bn = serial ? ASN1_INTEGER_to_BN(serial, NULL) : NULL;
    if (bn != NULL) {
        hex = BN_bn2hex(bn);
    }
    printf(SGC_SHOW_UNVERIFIED ": serial %s: %s%s%s, thisUpdate %s, "
           "nextUpdate %s\n", hex ? hex : "?", OCSP_cert_status_str(st),
           st == V_OCSP_CERTSTATUS_REVOKED ? " at " : "",
           st == V_OCSP_CERTSTATUS_REVOKED ? sgc_show_time(p, rev) : "",
           sgc_show_time(p, thisupd), sgc_show_time(p, nextupd));
    OPENSSL_free(hex);
    BN_free(bn);
}

/* The response's status and times, as OpenSSL parses them. */
static int sgc_show_response(apr_pool_t *p, const unsigned char *der,
                             apr_size_t len)
{
    const unsigned char *q = der;
    OCSP_RESPONSE *resp = d2i_OCSP_RESPONSE(NULL, &q, (long)len);
    OCSP_BASICRESP *bs = NULL;
    int i, st, rc = SGC_EXIT_GOOD;

    if (resp == NULL) {
        rc = sgc_fail("the stored response is not a DER OCSP response");
        goto out;
    }
    st = OCSP_response_status(resp);
    printf(SGC_SHOW_UNVERIFIED ": status %s", OCSP_response_status_str(st));
    bs = OCSP_response_get1_basic(resp);
    if (bs != NULL) {
        printf(", producedAt %s",
               sgc_show_time(p, OCSP_resp_get0_produced_at(bs)));
    }
    printf("\n");
    for (i = 0; bs != NULL && i < OCSP_resp_count(bs); i++) {
        sgc_show_single(p, OCSP_resp_get0(bs, i));
    }
out:
    OCSP_BASICRESP_free(bs);
    OCSP_RESPONSE_free(resp);
    return rc;
}

/* The file's name is its certificate's hash: say whether they agree. */
static const char *sgc_show_name_note(apr_pool_t *p, const char *name,
                                      const char *hex)
{
    return strcmp(name, apr_pstrcat(p, hex, SG_STORE_SUFFIX, NULL)) == 0
           ? "the file's name agrees"
           : "the file's name is not this hash: the module would not "
             "look for it under this name";
}

int sgc_show(apr_pool_t *p, const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *dir = slash ? apr_pstrmemdup(p, path, slash - path + 1) : ".";
    const char *name = slash ? slash + 1 : path, *hex;
    const unsigned char *hash, *der;
    unsigned char *buf;
    apr_size_t len, der_len;
    sg_store_format_t fmt;
    apr_status_t rv;
    char eb[128];

    if (strlen(name) > sizeof(SG_STORE_CRL_SUFFIX) - 1
        && strcmp(name + strlen(name) - (sizeof(SG_STORE_CRL_SUFFIX) - 1),
                  SG_STORE_CRL_SUFFIX) == 0) {
        return sgc_crl_show(p, dir, name, path);
    }
    rv = sg_store_read(p, dir, name, SG_STORE_FILE_MAX, &buf, &len);
    if (rv != APR_SUCCESS) {
        return sgc_fail("%s: cannot read it as a store file: %s", path,
                        rv == SG_STORE_E_TOO_LARGE ? "too large"
                        : rv == APR_EINVAL ? "not a regular file"
                        : apr_strerror(rv, eb, sizeof(eb)));
    }
    hash = sg_store_header_hash(buf, len);
    fmt = hash ? sg_store_decode(buf, len, hash, &der, &der_len)
               : SG_STORE_TRUNCATED;
    if (fmt != SG_STORE_OK) {
        return sgc_fail("%s: refused as a store file: %s (the module sets "
                        "such a file aside and fetches anew)", path,
                        sg_store_format_text(fmt));
    }
    hex = sgc_show_hex(p, hash, SG_STORE_HASH_LEN);
    printf("%s: format %s, %" APR_SIZE_T_FMT " bytes of response\n", path,
           sg_store_format_text(fmt), der_len);
    printf("certificate SHA-256: %s (%s)\n", hex,
           sgc_show_name_note(p, name, hex));
    return sgc_show_response(p, der, der_len);
}
