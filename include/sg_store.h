/* sg_store.h: responses on disk, so that they outlive full restarts.
 *
 * One file per certificate, named "<sha256 of the certificate>.ocsp" —
 * never from a name in the certificate. The file format:
 *
 *   "SGS1"                      magic and version, 4 bytes
 *   certificate SHA-256         32 bytes: a file copied or renamed to
 *                               another certificate's name is foreign
 *   response length             4 bytes, big-endian
 *   response                    DER OCSPResponse
 *   SHA-256 of all of the above 32 bytes: damage is told from a bad answer
 *
 * A certificate whose CRL is watched (src/sg_crl.c) has a file of another
 * kind, "<sha256 of the certificate>.crl", framed the same way with the
 * magic "SGC1": the verdict (not the CRL) and the validators of the
 * download it came from (sg_store_crl_t, packed as sg_pack.h packs).
 *
 * A file is written to a temporary name, fsync'ed, renamed over the old
 * one and the directory fsync'ed: a crash leaves the old file or the new,
 * never half of one. Symlinks are never followed.
 */
#ifndef SG_STORE_H
#define SG_STORE_H

#include <sys/types.h>

#include <apr_errno.h>
#include <apr_pools.h>
#include <apr_hash.h>
#include <apr_time.h>

#include "sg_table.h"

#define SG_STORE_SUFFIX ".ocsp"
#define SG_STORE_BAD_SUFFIX ".bad"
#define SG_STORE_CRL_SUFFIX ".crl"
#define SG_STORE_HASH_LEN 32
/* The largest file the store writes: a response of SG_RESPONSE_MAX and
 * its header (magic, certificate hash, length) and checksum. Readers
 * read no more. */
#define SG_STORE_FILE_MAX (SG_RESPONSE_MAX + 4 + SG_STORE_HASH_LEN + 4 \
                           + SG_STORE_HASH_LEN)

typedef enum {
    SG_STORE_OK = 0,
    SG_STORE_TRUNCATED,         /* shorter than its header says */
    SG_STORE_BAD_MAGIC,         /* not a store file, or another version */
    SG_STORE_CHECKSUM,          /* bytes changed since it was written */
    SG_STORE_FOREIGN,           /* written for another certificate */
    SG_STORE_TOO_LARGE,         /* larger than any file we write, or a
                                 * response larger than SG_RESPONSE_MAX */
    SG_STORE_NO_DIGEST          /* OpenSSL could not compute SHA-256 */
} sg_store_format_t;

/* sg_store_read's status for a file larger than max. */
#define SG_STORE_E_TOO_LARGE (APR_OS_START_USERERR + 1)

const char *sg_store_format_text(sg_store_format_t f);

/* Encode a response for the certificate with SHA-256 cert_hash. Fails
 * (APR_EGENERAL) only when OpenSSL cannot compute the checksum. */
apr_status_t sg_store_encode(apr_pool_t *p, const unsigned char *cert_hash,
                     const unsigned char *der, apr_size_t der_len,
                     unsigned char **out, apr_size_t *out_len);

/* The certificate SHA-256 a file's header names (SG_STORE_HASH_LEN
 * bytes inside buf), or NULL when buf is too short to hold a header. Not
 * checked: for showing a file whose certificate is not at hand, before
 * sg_store_decode checks everything with it. */
const unsigned char *sg_store_header_hash(const unsigned char *buf,
                                          apr_size_t len);

/* Decode and check a file's bytes; on SG_STORE_OK, *der points into buf. */
sg_store_format_t sg_store_decode(const unsigned char *buf, apr_size_t len,
                                  const unsigned char *cert_hash,
                                  const unsigned char **der,
                                  apr_size_t *der_len);

/* A CRL watch's verdict for one certificate. */
typedef struct {
    apr_uint32_t state;         /* sg_state_t */
    apr_uint32_t last_result;   /* sg_reason_t */
    apr_uint32_t failures;
    apr_int32_t reason_code;    /* CRLReason, -1: none */
    apr_time_t this_update;     /* the CRL's */
    apr_time_t next_update;
    apr_time_t revoked_at;
    apr_time_t last_attempt;
    apr_time_t next_attempt;
    const char *url;            /* the CRL's URL */
    const char *etag;           /* its validators, or NULL */
    const char *last_modified;
} sg_store_crl_t;

apr_status_t sg_store_crl_encode(apr_pool_t *p, const unsigned char *cert_hash,
                                 const sg_store_crl_t *v, unsigned char **out,
                                 apr_size_t *out_len);

/* Decode and check; strings are copied into p. */
sg_store_format_t sg_store_crl_decode(const unsigned char *buf,
                                      apr_size_t len,
                                      const unsigned char *cert_hash,
                                      sg_store_crl_t *v, apr_pool_t *p);

/* Make sure dir exists (with its parents), is a directory and not a
 * symlink, has mode 0700 and belongs to uid/gid (when we may chown, i.e.
 * as root). An existing directory that needs changing is taken over only
 * if it holds nothing but store files. On failure *err says what. */
apr_status_t sg_store_prepare(apr_pool_t *p, const char *dir, uid_t uid,
                              gid_t gid, const char **err);

/* Write atomically; the file gets mode 0600 (and uid/gid when root). */
apr_status_t sg_store_write(apr_pool_t *p, const char *dir, const char *name,
                            const unsigned char *buf, apr_size_t len,
                            uid_t uid, gid_t gid);

/* Read a regular file (not a symlink) of at most max bytes. Returns
 * APR_ENOENT when there is none, SG_STORE_E_TOO_LARGE when it is larger,
 * APR_EINVAL when it is not a regular file, or the error of the read. */
apr_status_t sg_store_read(apr_pool_t *p, const char *dir, const char *name,
                           apr_size_t max, unsigned char **buf,
                           apr_size_t *len);

/* Move a refused file out of the way (to name + ".bad"). */
apr_status_t sg_store_set_aside(apr_pool_t *p, const char *dir,
                                const char *name);

/* Remove store files ("*.ocsp", and the ".bad" and ".tmp.PID" files next
 * to them) not in keep (a hash of file names) whose last write is older
 * than grace; returns how many were removed. */
int sg_store_prune(apr_pool_t *p, const char *dir, apr_hash_t *keep,
                   apr_interval_time_t grace, apr_time_t now);

#endif
