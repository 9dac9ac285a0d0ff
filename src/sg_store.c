/* sg_store.c: one file per certificate, written atomically, read without
 * following symlinks. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#include <apr_file_io.h>
#include <apr_strings.h>
#include <openssl/evp.h>

#include "sg_pack.h"
#include "sg_store.h"

#define SG_STORE_MAGIC "SGS1"
#define SG_STORE_CRL_MAGIC "SGC1"
#define SG_STORE_MAGIC_LEN 4
#define SG_STORE_LEN_BYTES 4
#define SG_STORE_HEADER (SG_STORE_MAGIC_LEN + SG_STORE_HASH_LEN \
                         + SG_STORE_LEN_BYTES)
#define SG_STORE_OVERHEAD (SG_STORE_HEADER + SG_STORE_HASH_LEN)
_Static_assert(SG_STORE_FILE_MAX == SG_RESPONSE_MAX + SG_STORE_OVERHEAD,
               "SG_STORE_FILE_MAX is the header's layout");
#define SG_STORE_TMP ".tmp."
#define SG_STORE_DIR_MODE 0700
#define SG_STORE_PARENT_PERMS (APR_FPROT_UREAD | APR_FPROT_UWRITE \
                               | APR_FPROT_UEXECUTE | APR_FPROT_GREAD \
                               | APR_FPROT_GEXECUTE | APR_FPROT_WREAD \
                               | APR_FPROT_WEXECUTE)
#define SG_STORE_FILE_MODE 0600
#define SG_STORE_BYTE_BITS 8
#define SG_STORE_BYTE_MASK 0xffu

static const char *const sg_store_texts[] = {
    "ok",
    "truncated",
    "not a store file (bad magic)",
    "damaged (checksum mismatch)",
    "written for another certificate",
    "too large",
    "cannot compute its checksum",
};

const char *sg_store_format_text(sg_store_format_t f)
{
    return ((unsigned)f < sizeof(sg_store_texts) / sizeof(sg_store_texts[0]))
           ? sg_store_texts[f] : "?";
}

/* Returns non-zero when md holds the digest. */
static int sg_store_sha256(const unsigned char *buf, apr_size_t len,
                           unsigned char *md)
{
    unsigned int md_len = 0;

    return EVP_Digest(buf, len, md, &md_len, EVP_sha256(), NULL) == 1
           && md_len == SG_STORE_HASH_LEN;
}

/* magic, the certificate's hash, the payload's length, the payload,
 * and the SHA-256 of all that: every kind of record is framed so. */
static apr_status_t sg_store_frame(apr_pool_t *p, const char *magic,
                                   const unsigned char *cert_hash,
                                   const unsigned char *der,
                                   apr_size_t der_len, unsigned char **out,
                                   apr_size_t *out_len)
{
    apr_size_t len = SG_STORE_OVERHEAD + der_len;
    unsigned char *b = apr_palloc(p, len), *q = b;
    int i;

    memcpy(q, magic, SG_STORE_MAGIC_LEN);
    q += SG_STORE_MAGIC_LEN;
    memcpy(q, cert_hash, SG_STORE_HASH_LEN);
    q += SG_STORE_HASH_LEN;
    for (i = SG_STORE_LEN_BYTES - 1; i >= 0; i--) {
        *q++ = (unsigned char)((der_len >> (SG_STORE_BYTE_BITS * i))
                               & SG_STORE_BYTE_MASK);
    }
    memcpy(q, der, der_len);
    q += der_len;
    *out = b;
    *out_len = len;
    return sg_store_sha256(b, (apr_size_t)(q - b), q) ? APR_SUCCESS
                                                      : APR_EGENERAL;
}

apr_status_t sg_store_encode(apr_pool_t *p, const unsigned char *cert_hash,
                     const unsigned char *der, apr_size_t der_len,
                     unsigned char **out, apr_size_t *out_len)
{
    return sg_store_frame(p, SG_STORE_MAGIC, cert_hash, der, der_len, out,
                          out_len);
}

const unsigned char *sg_store_header_hash(const unsigned char *buf,
                                          apr_size_t len)
{
    return len >= SG_STORE_HEADER ? buf + SG_STORE_MAGIC_LEN : NULL;
}

static sg_store_format_t sg_store_unframe(const char *magic,
                                          const unsigned char *buf,
                                          apr_size_t len,
                                          const unsigned char *cert_hash,
                                          const unsigned char **der,
                                          apr_size_t *der_len)
{
    unsigned char md[SG_STORE_HASH_LEN];
    apr_size_t n = 0;
    int i;

    if (len < SG_STORE_OVERHEAD) {
        return SG_STORE_TRUNCATED;
    }
    if (memcmp(buf, magic, SG_STORE_MAGIC_LEN) != 0) {
        return SG_STORE_BAD_MAGIC;
    }
    for (i = 0; i < SG_STORE_LEN_BYTES; i++) {
        n = (n << SG_STORE_BYTE_BITS)
            | buf[SG_STORE_MAGIC_LEN + SG_STORE_HASH_LEN + i];
    }
    if (n > len - SG_STORE_OVERHEAD) {
        return SG_STORE_TRUNCATED;
    }
    if (n > SG_RESPONSE_MAX) {
        /* signed and checksummed alike, but more than the table holds
         * (a genuine response padded in its certificate list): refused
         * here, never stored as nothing */
        return SG_STORE_TOO_LARGE;
    }
    if (n < len - SG_STORE_OVERHEAD) {
        return SG_STORE_CHECKSUM;   /* trailing bytes: not as written */
    }
    if (!sg_store_sha256(buf, SG_STORE_HEADER + n, md)) {
        return SG_STORE_NO_DIGEST;
    }
    if (memcmp(md, buf + SG_STORE_HEADER + n, SG_STORE_HASH_LEN) != 0) {
        return SG_STORE_CHECKSUM;
    }
    if (memcmp(buf + SG_STORE_MAGIC_LEN, cert_hash, SG_STORE_HASH_LEN) != 0) {
        return SG_STORE_FOREIGN;
    }
    *der = buf + SG_STORE_HEADER;
    *der_len = n;
    return SG_STORE_OK;
}

sg_store_format_t sg_store_decode(const unsigned char *buf, apr_size_t len,
                                  const unsigned char *cert_hash,
                                  const unsigned char **der,
                                  apr_size_t *der_len)
{
    return sg_store_unframe(SG_STORE_MAGIC, buf, len, cert_hash, der,
                            der_len);
}

/* ---- a CRL watch's verdict: a record of its own kind ---- */

static void sg_store_crl_pack(sg_pack_t *w, const sg_store_crl_t *v)
{
    sg_pack_u32(w, v->state);
    sg_pack_u32(w, v->last_result);
    sg_pack_u32(w, v->failures);
    sg_pack_u32(w, (apr_uint32_t)v->reason_code);
    sg_pack_time(w, v->this_update);
    sg_pack_time(w, v->next_update);
    sg_pack_time(w, v->revoked_at);
    sg_pack_time(w, v->last_attempt);
    sg_pack_time(w, v->next_attempt);
    sg_pack_str(w, v->url);
    sg_pack_str(w, v->etag);
    sg_pack_str(w, v->last_modified);
}

apr_status_t sg_store_crl_encode(apr_pool_t *p, const unsigned char *cert_hash,
                                 const sg_store_crl_t *v, unsigned char **out,
                                 apr_size_t *out_len)
{
    sg_pack_t w;

    sg_pack_init(&w, p);
    sg_store_crl_pack(&w, v);
    return sg_store_frame(p, SG_STORE_CRL_MAGIC, cert_hash, w.data, w.len,
                          out, out_len);
}

sg_store_format_t sg_store_crl_decode(const unsigned char *buf,
                                      apr_size_t len,
                                      const unsigned char *cert_hash,
                                      sg_store_crl_t *v, apr_pool_t *p)
{
    const unsigned char *rec = NULL;
    apr_size_t rec_len = 0;
    sg_store_format_t f = sg_store_unframe(SG_STORE_CRL_MAGIC, buf, len,
                                           cert_hash, &rec, &rec_len);
    sg_unpack_t r;

    memset(v, 0, sizeof(*v));
    if (f != SG_STORE_OK) {
        return f;
    }
    sg_unpack_init(&r, rec, rec_len);
    v->state = sg_unpack_u32(&r);
    v->last_result = sg_unpack_u32(&r);
    v->failures = sg_unpack_u32(&r);
    v->reason_code = (apr_int32_t)sg_unpack_u32(&r);
    v->this_update = sg_unpack_time(&r);
    v->next_update = sg_unpack_time(&r);
    v->revoked_at = sg_unpack_time(&r);
    v->last_attempt = sg_unpack_time(&r);
    v->next_attempt = sg_unpack_time(&r);
    v->url = sg_unpack_str(&r, p);
    v->etag = sg_unpack_str(&r, p);
    v->last_modified = sg_unpack_str(&r, p);
    return sg_unpack_done(&r) && v->url != NULL ? SG_STORE_OK
                                                : SG_STORE_TRUNCATED;
}

static apr_status_t sg_store_errno(void)
{
    return APR_FROM_OS_ERROR(errno);
}

/* Only the module's own files: "*.ocsp", "*.ocsp.bad", "*.ocsp.tmp.PID",
 * and the same of "*.crl". */
static int sg_store_is_kind(const char *name, const char *suffix)
{
    const char *dot = strstr(name, suffix);
    apr_size_t n = strlen(suffix);

    return dot != NULL && dot != name
           && (dot[n] == '\0' || strcmp(dot + n, SG_STORE_BAD_SUFFIX) == 0
               || strncmp(dot + n, SG_STORE_TMP, sizeof(SG_STORE_TMP) - 1)
                  == 0);
}

static int sg_store_is_ours(const char *name)
{
    return sg_store_is_kind(name, SG_STORE_SUFFIX)
           || sg_store_is_kind(name, SG_STORE_CRL_SUFFIX);
}

/* Does the directory hold nothing but the module's files? Then it may be
 * taken over; a directory named by mistake (a document root, say) is not. */
static int sg_store_only_ours(int dfd)
{
    int fd = dup(dfd), ours = 1;
    DIR *d;
    struct dirent *de;

    if (fd < 0 || (d = fdopendir(fd)) == NULL) {
        if (fd >= 0) {
            close(fd);
        }
        return 0;
    }
    while (ours && (de = readdir(d)) != NULL) {
        ours = strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0
               || sg_store_is_ours(de->d_name);
    }
    closedir(d);
    return ours;
}

/* Owner and mode are changed through the descriptor: the path is not
 * looked up again, so nothing can be swapped in between. */
static apr_status_t sg_store_take_over(int dfd, uid_t uid, gid_t gid,
                                       const char **err)
{
    struct stat st;
    int root = (geteuid() == 0);

    if (fstat(dfd, &st) != 0) {
        *err = "cannot be examined";
        return sg_store_errno();
    }
    if ((root && (st.st_uid != uid || st.st_gid != gid))
        || (st.st_mode & 07777) != SG_STORE_DIR_MODE) {
        if (!sg_store_only_ours(dfd)) {
            *err = "holds files that are not the module's; name an empty or "
                   "a new directory";
            return APR_EEXIST;
        }
        if (root && fchown(dfd, uid, gid) != 0) {
            *err = "cannot be given to the server's user";
            return sg_store_errno();
        }
        if (fchmod(dfd, SG_STORE_DIR_MODE) != 0) {
            *err = "cannot be made private (mode 0700)";
            return sg_store_errno();
        }
    }
    return APR_SUCCESS;
}

apr_status_t sg_store_prepare(apr_pool_t *p, const char *dir, uid_t uid,
                              gid_t gid, const char **err)
{
    apr_status_t rv;
    int dfd;

    *err = NULL;
    /* Missing parents as mkdir -p makes them (0755 less the umask): the
     * children, as httpd's User, write here and must pass through them.
     * The store itself becomes private just below. */
    rv = apr_dir_make_recursive(dir, SG_STORE_PARENT_PERMS, p);
    if (rv != APR_SUCCESS && !APR_STATUS_IS_EEXIST(rv)) {
        *err = "cannot be created";
        return rv;
    }
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0) {
        rv = sg_store_errno();
        *err = (errno == ENOTDIR || errno == ELOOP)
               ? "is not a directory (symlinks are not followed)"
               : "cannot be opened";
        return rv;
    }
    rv = sg_store_take_over(dfd, uid, gid, err);
    close(dfd);
    return rv;
}

static int sg_store_open_dir(const char *dir)
{
    return open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

static apr_status_t sg_store_write_all(int fd, const unsigned char *buf,
                                       apr_size_t len)
{
    ssize_t n;

    while (len > 0) {
        n = write(fd, buf, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return n < 0 ? sg_store_errno() : APR_EGENERAL;
        }
        buf += n;
        len -= (apr_size_t)n;
    }
    return APR_SUCCESS;
}

apr_status_t sg_store_write(apr_pool_t *p, const char *dir, const char *name,
                            const unsigned char *buf, apr_size_t len,
                            uid_t uid, gid_t gid)
{
    const char *tmp = apr_psprintf(p, "%s" SG_STORE_TMP "%ld", name,
                                   (long)getpid());
    int dfd, fd = -1;
    apr_status_t rv = APR_SUCCESS;

    dfd = sg_store_open_dir(dir);
    if (dfd < 0) {
        return sg_store_errno();
    }
    unlinkat(dfd, tmp, 0);  /* left by a process killed mid-write */
    fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                SG_STORE_FILE_MODE);
    if (fd < 0) {
        rv = sg_store_errno();
        goto out;
    }
    if (geteuid() == 0 && fchown(fd, uid, gid) != 0) {
        rv = sg_store_errno();
    }
    if (rv == APR_SUCCESS) {
        rv = sg_store_write_all(fd, buf, len);
    }
    if (rv == APR_SUCCESS && fsync(fd) != 0) {
        rv = sg_store_errno();
    }
    if (close(fd) != 0 && rv == APR_SUCCESS) {
        rv = sg_store_errno();
    }
    if (rv == APR_SUCCESS && renameat(dfd, tmp, dfd, name) != 0) {
        rv = sg_store_errno();
    }
    if (rv != APR_SUCCESS) {
        unlinkat(dfd, tmp, 0);
    }
    else if (fsync(dfd) != 0) {
        rv = sg_store_errno();  /* the rename may not survive a crash */
    }
out:
    close(dfd);
    return rv;
}

apr_status_t sg_store_read(apr_pool_t *p, const char *dir, const char *name,
                           apr_size_t max, unsigned char **buf,
                           apr_size_t *len)
{
    struct stat st;
    int dfd, fd = -1;
    ssize_t n = 0;
    apr_size_t got = 0;
    apr_status_t rv = APR_SUCCESS;

    *buf = NULL;
    *len = 0;
    dfd = sg_store_open_dir(dir);
    if (dfd < 0) {
        return sg_store_errno();
    }
    /* O_NOFOLLOW: a symlink fails with ELOOP instead of being read. */
    fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        rv = sg_store_errno();
        goto out;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rv = APR_EINVAL;
        goto out;
    }
    if ((apr_size_t)st.st_size > max) {
        rv = SG_STORE_E_TOO_LARGE;
        goto out;
    }
    *buf = apr_palloc(p, (apr_size_t)st.st_size + 1);
    while (got < (apr_size_t)st.st_size
           && (n = read(fd, *buf + got, (apr_size_t)st.st_size - got)) > 0) {
        got += (apr_size_t)n;
    }
    /* A file that shrank meanwhile is read short and found truncated; a
     * failed read is the error itself. */
    if (n < 0) {
        rv = sg_store_errno();
        goto out;
    }
    *len = got;
out:
    if (fd >= 0) {
        close(fd);
    }
    close(dfd);
    return rv;
}

apr_status_t sg_store_set_aside(apr_pool_t *p, const char *dir,
                                const char *name)
{
    int dfd = sg_store_open_dir(dir);
    apr_status_t rv = APR_SUCCESS;

    if (dfd < 0) {
        return sg_store_errno();
    }
    if (renameat(dfd, name, dfd,
                 apr_pstrcat(p, name, SG_STORE_BAD_SUFFIX, NULL)) != 0) {
        rv = sg_store_errno();
    }
    close(dfd);
    return rv;
}

int sg_store_prune(apr_pool_t *p, const char *dir, apr_hash_t *keep,
                   apr_interval_time_t grace, apr_time_t now)
{
    int dfd = sg_store_open_dir(dir), removed = 0;
    DIR *d;
    struct dirent *de;
    struct stat st;

    (void)p;
    if (dfd < 0 || (d = fdopendir(dfd)) == NULL) {
        if (dfd >= 0) {
            close(dfd);
        }
        return 0;
    }
    while ((de = readdir(d)) != NULL) {
        if (!sg_store_is_ours(de->d_name)
            || apr_hash_get(keep, de->d_name, APR_HASH_KEY_STRING) != NULL
            || fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            continue;
        }
        if (apr_time_from_sec(st.st_mtime) + grace < now
            && unlinkat(dfd, de->d_name, 0) == 0) {
            removed++;
        }
    }
    closedir(d);    /* closes dfd too */
    return removed;
}
