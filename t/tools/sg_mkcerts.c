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
 * Build: make build/tools/sg_mkcerts (with t/tools/sg_tool.c, -lcrypto)
 */

#include <stdio.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "sg_tool.h"

#define MK_USAGE		"inter.crt inter.key ocsp_url outdir domain " \
				"count\n"
#define MK_SERIAL_BASE		1000000L	/* clear of mkpki.sh's serials */
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

const char tool_name[] = "sg_mkcerts";

/* Adds one extension written in openssl.cnf syntax. */
static void
mk_add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION	*ext;

	ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	if (ext == NULL || !X509_add_ext(x, ext, -1))
		tool_die("cannot add extension", value);
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

	x = tool_cert_new(MK_SERIAL_BASE + i, name, ca->cert, ca->leaf_key);
	mk_extensions(x, ca, name, o->url);
	tool_cert_sign(x, ca->key);
	return x;
}

/* DIR/h<i><suffix>, opened for writing; its name is left in path. */
static FILE *
mk_open(const struct mk_opts *o, long i, const char *suffix,
    char path[MK_PATH_MAX])
{
	snprintf(path, MK_PATH_MAX, "%s/h%ld%s", o->dir, i, suffix);
	return tool_fopen(path, "w");
}

static void
mk_write(const struct mk_ca *ca, const struct mk_opts *o, long i, X509 *x)
{
	char	 path[MK_PATH_MAX];
	FILE	*fp;
	int	 ok;

	fp = mk_open(o, i, ".crt", path);
	tool_fclose(fp, PEM_write_X509(fp, x), path);
	fp = mk_open(o, i, "-chain.pem", path);
	ok = PEM_write_X509(fp, x) && PEM_write_X509(fp, ca->cert);
	tool_fclose(fp, ok, path);
	fp = mk_open(o, i, ".key", path);
	ok = PEM_write_PrivateKey(fp, ca->leaf_key, NULL, NULL, 0, NULL, NULL);
	tool_fclose(fp, ok, path);
}

int
main(int argc, char *argv[])
{
	struct mk_opts	 o;
	struct mk_ca	 ca;
	char		 name[MK_HOST_MAX];
	long		 i;

	if (argc != 7)
		tool_usage(MK_USAGE);
	o.issuer_cert = argv[1];
	o.issuer_key = argv[2];
	o.url = argv[3];
	o.dir = argv[4];
	o.domain = argv[5];
	o.count = tool_arg_long(argv[6], 1, MK_COUNT_MAX, "bad count");

	ca.cert = tool_load_cert(o.issuer_cert);
	ca.key = tool_load_key(o.issuer_key);
	ca.leaf_key = tool_key_new();

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
