/* sg_reason.c: the table of outcomes shared by log, status page and tests. */
#include <stddef.h>

#include "sg_reason.h"

typedef struct {
    sg_reason_t code;
    const char *name;
    const char *id;
    const char *text;
} sg_reason_entry_t;

/* Ordered like the enum; sg_reason_lookup() checks that it stays so. */
static const sg_reason_entry_t sg_reasons[SG_R_COUNT] = {
    { SG_R_OK, "ok", "SG0100", "response verified and kept" },
    { SG_R_BAD_URL, "bad-url", "SG0101",
      "the OCSP URL is not a usable http:// URL" },
    { SG_R_RESOLVE, "resolve", "SG0102",
      "the responder's host name could not be resolved (check DNS)" },
    { SG_R_REFUSED, "refused", "SG0103",
      "the responder refused the connection or could not be reached" },
    { SG_R_TIMEOUT, "timeout", "SG0104",
      "the responder did not answer within StapleGuardResponderTimeout" },
    { SG_R_HTTP_STATUS, "http-status", "SG0105",
      "the responder answered with an HTTP error status" },
    { SG_R_CONTENT_TYPE, "content-type", "SG0106",
      "the responder's answer is not of type application/ocsp-response" },
    { SG_R_TOO_LARGE, "too-large", "SG0107",
      "the responder's answer exceeds the size limit" },
    { SG_R_EMPTY, "empty", "SG0108", "the responder sent an empty body" },
    { SG_R_IO, "io", "SG0109",
      "the exchange with the responder failed (connection closed or bad HTTP)" },
    { SG_R_NOT_OCSP, "not-ocsp", "SG0110",
      "the body is not a DER-encoded OCSP response" },
    { SG_R_MALFORMED_REQUEST, "malformed-request", "SG0111",
      "the responder says the request was malformed (status 1)" },
    { SG_R_INTERNAL_ERROR, "internal-error", "SG0112",
      "the responder reports an internal error (status 2); retrying later" },
    { SG_R_TRY_LATER, "try-later", "SG0113",
      "the responder is busy (status 3, tryLater); retrying later" },
    { SG_R_SIG_REQUIRED, "sig-required", "SG0114",
      "the responder wants signed requests (status 5), which stapling "
      "cannot provide" },
    { SG_R_UNAUTHORIZED, "unauthorized", "SG0115",
      "the CA has no status for this certificate (status 6, unauthorized): "
      "common right after issuance or with the wrong responder URL; "
      "retrying with POST, which CDNs do not cache" },
    { SG_R_RESP_STATUS, "response-status", "SG0116",
      "the responder answered with an undefined response status" },
    { SG_R_NOT_BASIC, "not-basic", "SG0117",
      "the response is not a basic OCSP response" },
    { SG_R_SIGNER_NOT_FOUND, "signer-not-found", "SG0118",
      "the response's signer certificate is neither the issuer nor included" },
    { SG_R_BAD_SIGNATURE, "bad-signature", "SG0119",
      "the response's signature does not verify" },
    { SG_R_SIGNER_NOT_ISSUED, "signer-not-issued", "SG0120",
      "the responder's certificate was not issued by the certificate's issuer" },
    { SG_R_SIGNER_NOT_AUTHORIZED, "signer-not-authorized", "SG0121",
      "the responder's certificate lacks the OCSPSigning extended key usage" },
    { SG_R_SIGNER_EXPIRED, "signer-expired", "SG0122",
      "the responder's certificate is expired or not yet valid" },
    { SG_R_CERTID_MISMATCH, "certid-mismatch", "SG0123",
      "the response is for another certificate" },
    { SG_R_STATUS_UNKNOWN, "status-unknown", "SG0124",
      "the responder does not know this certificate (status unknown)" },
    { SG_R_NOT_YET_VALID, "not-yet-valid", "SG0125",
      "thisUpdate is in the future beyond StapleGuardClockSkew "
      "(check the local clock)" },
    { SG_R_EXPIRED, "expired", "SG0127",
      "the response has expired: nextUpdate has passed, or thisUpdate is "
      "older than StapleGuardMaxAge (StapleGuardNoNextUpdateLifetime "
      "without nextUpdate)" },
    { SG_R_BAD_WINDOW, "bad-window", "SG0128",
      "nextUpdate is not after thisUpdate" },
    { SG_R_OLDER_THAN_HELD, "older-than-held", "SG0129",
      "the response is older than the one already held (never downgrade)" },
    { SG_R_INTERNAL, "internal", "SG0130",
      "an internal error (out of memory or library failure)" },
    { SG_R_PROXY_UNREACHABLE, "proxy-unreachable", "SG0131",
      "the proxy (StapleGuardProxy) refused the connection or its name "
      "could not be resolved" },
    { SG_R_PROXY_AUTH, "proxy-auth", "SG0132",
      "the proxy wants credentials (HTTP 407): give or correct "
      "user:password in StapleGuardProxy" },
    { SG_R_PROXY_FORBIDDEN, "proxy-forbidden", "SG0133",
      "the proxy forbids the request (HTTP 403): its rules must allow "
      "the responder's host" },
    { SG_R_PROXY_TIMEOUT, "proxy-timeout", "SG0134",
      "the proxy did not answer within StapleGuardResponderTimeout" },
    { SG_R_PROXY_UPSTREAM, "proxy-upstream", "SG0135",
      "the proxy could not get an answer from the responder behind it "
      "(HTTP 502, 503 or 504)" },
    { SG_R_CERTID_HASH, "certid-hash", "SG0140",
      "the response names this certificate by a SHA-2 CertID, which "
      "Firefox and curl refuse as a staple; not stapled (RFC 5019 asks "
      "for SHA-1)" },
    { SG_R_TABLE_FULL, "table-full", "SG0141",
      "no room left in shared memory for this larger response: the one "
      "held stays stapled until a graceful restart makes room" },
    { SG_R_RESOLVE_BUSY, "resolve-busy", "SG0142",
      "the name was not looked up: too many earlier lookups in this "
      "process are still waiting for a resolver that does not answer "
      "(check DNS); retrying later" },
    { SG_R_CRL_NOT_CRL, "crl-not-crl", "SG0160",
      "the download is not a DER-encoded CRL (an HTML page, garbage or a "
      "truncated file)" },
    { SG_R_CRL_TOO_LARGE, "crl-too-large", "SG0161",
      "the CRL is larger than StapleGuardCRLMaxSize: the download was cut "
      "off" },
    { SG_R_CRL_WRONG_ISSUER, "crl-wrong-issuer", "SG0162",
      "the CRL names another issuer than the certificate's" },
    { SG_R_CRL_BAD_SIGNATURE, "crl-bad-signature", "SG0163",
      "the CRL's signature does not verify with the key of the "
      "certificate's issuer" },
    { SG_R_CRL_NOT_YET_VALID, "crl-not-yet-valid", "SG0164",
      "the CRL's thisUpdate is in the future beyond StapleGuardClockSkew "
      "(check the local clock)" },
    { SG_R_CRL_EXPIRED, "crl-expired", "SG0165",
      "the CRL's nextUpdate has passed (beyond the grace of one hour): the "
      "CA has not published a newer one at this URL" },
    { SG_R_CRL_BAD_WINDOW, "crl-bad-window", "SG0166",
      "the CRL's nextUpdate is not after its thisUpdate" },
    { SG_R_CRL_IDP_MISMATCH, "crl-idp-mismatch", "SG0167",
      "the CRL's issuing distribution point does not name the URL it was "
      "downloaded from: it is another partition's CRL" },
    { SG_R_CRL_INDIRECT, "crl-indirect", "SG0168",
      "the CRL is indirect (issued for another CA's certificates), which "
      "the watch does not use" },
    { SG_R_CRL_DELTA, "crl-delta", "SG0169",
      "the CRL is a delta CRL, which lists only changes since a base CRL: "
      "not used" },
    { SG_R_CRL_SCOPE, "crl-scope", "SG0170",
      "the CRL covers only CA certificates, attribute certificates or some "
      "revocation reasons, so it cannot say this certificate is good" },
    { SG_R_CRL_CRITICAL, "crl-critical", "SG0171",
      "the CRL has a critical extension the watch does not understand" },
    { SG_R_CRL_OLDER, "crl-older", "SG0172",
      "the CRL is older than the one already judged (thisUpdate went "
      "back): not used" },
    { SG_R_CRL_UNSUPPORTED_ALG, "crl-unsupported-alg", "SG0173",
      "the CRL is signed with an algorithm the watch cannot check (RSA, "
      "ECDSA and EdDSA are)" },
};

static const sg_reason_entry_t *sg_reason_lookup(sg_reason_t r)
{
    if ((unsigned)r >= SG_R_COUNT || sg_reasons[r].code != r) {
        return &sg_reasons[SG_R_INTERNAL];
    }
    return &sg_reasons[r];
}

const char *sg_reason_name(sg_reason_t r)
{
    return sg_reason_lookup(r)->name;
}

const char *sg_reason_id(sg_reason_t r)
{
    return sg_reason_lookup(r)->id;
}

const char *sg_reason_text(sg_reason_t r)
{
    return sg_reason_lookup(r)->text;
}

int sg_reason_is_responder_error(sg_reason_t r)
{
    return r >= SG_R_MALFORMED_REQUEST && r <= SG_R_RESP_STATUS;
}
