/*
 * sg_mkcerts -- many leaf certificates, quickly, for the 1,000 vhost bench.
 *
 * `openssl ca` costs a process and a key per certificate; for a thousand
 * that is most of the time budget.  Here one EC key is made and reused
 * (stapling cost does not depend on the key), and every certificate is
 * signed by the test intermediate, so the one test responder serves all
 * of them, with its OCSP URL in the AIA extension as a CA would put it.
 *
 * For i in 0..count-1 it writes DIR/h<i>.crt, DIR/h<i>-chain.pem
 * (leaf + intermediate, for SSLCertificateFile) and DIR/h<i>.key, for the
 * name h<i>.<domain>.
 *
 * Build: cc -O2 -Wall -Wextra -o sg_mkcerts sg_mkcerts.c -lcrypto
 */

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define MK_NAME			"sg_mkcerts"
#define MK_CURVE		"P-256"
#define MK_SERIAL_BASE		1000000L	/* clear of mkpki.sh's serials */
#define MK_BACKDATE		3600		/* seconds: tolerate clock skew */
#define MK_LIFETIME		(30L * 24 * 3600)
#define MK_COUNT_MAX		100000
#define MK_PATH_MAX		4096
#define MK_EXT_MAX		512	/* one extension value */
#define MK_HOST_MAX		256	/* one DNS name */

struct mk_opts {
	const char	*issuer_cert;
	const char	*issuer_key;
	const char	*url;
	const char	*dir;
	const char	*domain;
	long		 count;
};

struct mk_ca {
	X509		*cert;
	EVP_PKEY	*key;
	EVP_PKEY	*leaf_key;	/* shared by every leaf */
};

static void __attribute__((noreturn))
mk_die(const char *what, const char *arg)
{
	fprintf(stderr, MK_NAME ": %s%s%s\n", what, arg ? ": " : "",
	    arg ? arg : "");
	ERR_print_errors_fp(stderr);
	exit(1);
}

static void __attribute__((noreturn))
mk_usage(void)
{
	fprintf(stderr, "usage: " MK_NAME " inter.crt inter.key ocsp_url "
	    "outdir domain count\n");
	exit(2);
}

static X509 *
mk_load_cert(const char *path)
{
	FILE	*fp;
	X509	*x;

	if ((fp = fopen(path, "r")) == NULL)
		mk_die(path, strerror(errno));
	x = PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	if (x == NULL)
		mk_die("cannot parse certificate", path);
	return x;
}

static EVP_PKEY *
mk_load_key(const char *path)
{
	FILE		*fp;
	EVP_PKEY	*k;

	if ((fp = fopen(path, "r")) == NULL)
		mk_die(path, strerror(errno));
	k = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
	fclose(fp);
	if (k == NULL)
		mk_die("cannot parse key", path);
	return k;
}

/* Adds one extension written in openssl.cnf syntax. */
static void
mk_add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION	*ext;

	ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	if (ext == NULL || !X509_add_ext(x, ext, -1))
		mk_die("cannot add extension", value);
	X509_EXTENSION_free(ext);
}

static void
mk_extensions(X509 *x, const struct mk_ca *ca, const char *name,
    const char *url)
{
	X509V3_CTX	 ctx;
	char		 buf[MK_EXT_MAX];

	X509V3_set_ctx(&ctx, ca->cert, x, NULL, NULL, 0);
	mk_add_ext(x, &ctx, NID_basic_constraints, "CA:FALSE");
	mk_add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature");
	mk_add_ext(x, &ctx, NID_ext_key_usage, "serverAuth");
	mk_add_ext(x, &ctx, NID_authority_key_identifier, "keyid");
	snprintf(buf, sizeof(buf), "DNS:%s", name);
	mk_add_ext(x, &ctx, NID_subject_alt_name, buf);
	snprintf(buf, sizeof(buf), "OCSP;URI:%s", url);
	mk_add_ext(x, &ctx, NID_info_access, buf);
}

static X509 *
mk_leaf(const struct mk_ca *ca, const struct mk_opts *o, long i,
    const char *name)
{
	X509	*x;

	if ((x = X509_new()) == NULL)
		mk_die("X509_new", NULL);
	if (!X509_set_version(x, X509_VERSION_3) ||
	    !ASN1_INTEGER_set(X509_get_serialNumber(x), MK_SERIAL_BASE + i) ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -MK_BACKDATE) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), MK_LIFETIME) == NULL ||
	    !X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
	    MBSTRING_ASC, (const unsigned char *)name, -1, -1, 0) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(ca->cert)) ||
	    !X509_set_pubkey(x, ca->leaf_key))
		mk_die("cannot fill certificate", name);
	mk_extensions(x, ca, name, o->url);
	if (X509_sign(x, ca->key, EVP_sha256()) <= 0)
		mk_die("cannot sign", name);
	return x;
}

static FILE *
mk_open(const struct mk_opts *o, long i, const char *suffix)
{
	char	 path[MK_PATH_MAX];
	FILE	*fp;

	snprintf(path, sizeof(path), "%s/h%ld%s", o->dir, i, suffix);
	if ((fp = fopen(path, "w")) == NULL)
		mk_die(path, strerror(errno));
	return fp;
}

static void
mk_close(FILE *fp, int ok)
{
	if (fclose(fp) != 0 || !ok)
		mk_die("cannot write output", NULL);
}

static void
mk_write(const struct mk_ca *ca, const struct mk_opts *o, long i, X509 *x)
{
	FILE	*fp;
	int	 ok;

	fp = mk_open(o, i, ".crt");
	mk_close(fp, PEM_write_X509(fp, x));
	fp = mk_open(o, i, "-chain.pem");
	ok = PEM_write_X509(fp, x) && PEM_write_X509(fp, ca->cert);
	mk_close(fp, ok);
	fp = mk_open(o, i, ".key");
	mk_close(fp, PEM_write_PrivateKey(fp, ca->leaf_key, NULL, NULL, 0,
	    NULL, NULL));
}

int
main(int argc, char *argv[])
{
	struct mk_opts	 o;
	struct mk_ca	 ca;
	char		 name[MK_HOST_MAX];
	char		*end;
	long		 i;

	if (argc != 7)
		mk_usage();
	o.issuer_cert = argv[1];
	o.issuer_key = argv[2];
	o.url = argv[3];
	o.dir = argv[4];
	o.domain = argv[5];
	errno = 0;
	o.count = strtol(argv[6], &end, 10);
	if (errno != 0 || *end != '\0' || o.count < 1 ||
	    o.count > MK_COUNT_MAX)
		mk_die("bad count", argv[6]);

	ca.cert = mk_load_cert(o.issuer_cert);
	ca.key = mk_load_key(o.issuer_key);
	if ((ca.leaf_key = EVP_EC_gen(MK_CURVE)) == NULL)
		mk_die("cannot make the leaf key", NULL);

	for (i = 0; i < o.count; i++) {
		X509	*x;

		snprintf(name, sizeof(name), "h%ld.%s", i, o.domain);
		x = mk_leaf(&ca, &o, i, name);
		mk_write(&ca, &o, i, x);
		X509_free(x);
	}
	EVP_PKEY_free(ca.leaf_key);
	EVP_PKEY_free(ca.key);
	X509_free(ca.cert);
	return 0;
}
