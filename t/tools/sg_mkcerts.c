/*
 * sg_mkcerts -- many leaf certificates, quickly, for the 1,000 vhost bench.
 *
 * `openssl ca` costs a process and a key per certificate; for a thousand
 * that is most of the time budget.  Here one EC key is made and reused
 * (stapling cost does not depend on the key), and every certificate is
 * signed by the test intermediate, so the one test responder serves all
 * of them, with its OCSP URL in the AIA extension as a CA would put it.
 *
 * For i in first..first+count-1 it writes DIR/h<i>.crt, DIR/h<i>-chain.pem
 * (leaf + intermediate, for SSLCertificateFile) and DIR/h<i>.key, for the
 * name h<i>.<domain>, serial MK_SERIAL_BASE + i.
 *
 * Options, for tests that need more than one shape (t/37):
 *   -f first  the first index (default 0): runs with other issuers or
 *             URLs into the same directory make other names and serials;
 *   -u url    one more OCSP URL (repeatable): certificate i names URL
 *             number i mod n of the n given (ocsp_url first), so that
 *             certificates are spread over responders;
 *   -v        sizes that vary with i: a serial 0 to MK_SERIAL_PAD_MAX
 *             bytes longer (so their OCSP responses differ in length) and
 *             a subject with an OU of 1 to MK_OU_MAX characters.
 *
 * Build: make build/tools/sg_mkcerts (with t/tools/sg_tool.c, -lcrypto)
 */

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "sg_tool.h"

#define MK_USAGE		"[-f first] [-u url]... [-v] inter.crt inter.key " \
				"ocsp_url outdir domain count\n"
#define MK_SERIAL_BASE		1000000L	/* clear of mkpki.sh's serials */
#define MK_COUNT_MAX		100000
#define MK_PATH_MAX		4096
#define MK_EXT_MAX		512	/* one extension value */
#define MK_HOST_MAX		256	/* one DNS name */
#define MK_URLS_MAX		64	/* OCSP URLs to spread over */
/* -v: up to this many bytes after the serial's own (20 in all at most,
 * RFC 5280 4.1.2.2, with the 3 of MK_SERIAL_BASE + i), and an OU of up
 * to ub-organizational-unit-name characters. */
#define MK_SERIAL_PAD_MAX	16
#define MK_SERIAL_PAD_BYTE	0x5a
#define MK_OU_MAX		64
#define MK_OU_STEP		7	/* OU lengths walk through 1..64 */

struct mk_opts {
	const char	*issuer_cert;
	const char	*issuer_key;
	const char	*urls[MK_URLS_MAX];
	int		 nurls;
	const char	*dir;
	const char	*domain;
	long		 first;
	long		 count;
	int		 vary;
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

/*
 * -v: the serial (MK_SERIAL_BASE + i) followed by pad bytes, pad = i mod
 * (MK_SERIAL_PAD_MAX + 1). Serials stay distinct: for one pad length the
 * leading part tells them apart, and one more pad byte makes a number
 * larger than any with fewer (MK_SERIAL_BASE + i is below 256 times
 * MK_SERIAL_BASE).
 */
static void
mk_vary_serial(X509 *x, long i)
{
	BIGNUM	*bn;
	long	 pad = i % (MK_SERIAL_PAD_MAX + 1), k;
	int	 ok;

	if ((bn = BN_new()) == NULL)
		tool_die("BN_new", NULL);
	ok = BN_set_word(bn, (BN_ULONG)(MK_SERIAL_BASE + i));
	for (k = 0; ok && k < pad; k++)
		ok = BN_lshift(bn, bn, 8) &&
		    BN_add_word(bn, MK_SERIAL_PAD_BYTE);
	if (!ok || BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL)
		tool_die("cannot set serial", NULL);
	BN_free(bn);
}

/* -v: an OU after the CN, 1 to MK_OU_MAX characters long. */
static void
mk_vary_subject(X509 *x, long i)
{
	char	 ou[MK_OU_MAX + 1];
	size_t	 len = 1 + (size_t)(i * MK_OU_STEP) % MK_OU_MAX;

	memset(ou, 'o', len);
	ou[len] = '\0';
	if (!X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "OU",
	    MBSTRING_ASC, (const unsigned char *)ou, -1, -1, 0))
		tool_die("cannot add OU", ou);
}

static X509 *
mk_leaf(const struct mk_ca *ca, const struct mk_opts *o, long i,
    const char *name)
{
	X509	*x;

	x = tool_cert_new(MK_SERIAL_BASE + i, name, ca->cert, ca->leaf_key);
	if (o->vary) {
		mk_vary_serial(x, i);
		mk_vary_subject(x, i);
	}
	mk_extensions(x, ca, name, o->urls[i % o->nurls]);
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

/* The options, then the six arguments; the first URL is ocsp_url. */
static void
mk_parse_args(int argc, char *argv[], struct mk_opts *o)
{
	const char	*more[MK_URLS_MAX];
	int		 ch, nmore = 0, k;

	memset(o, 0, sizeof(*o));
	while ((ch = getopt(argc, argv, "f:u:v")) != -1) {
		switch (ch) {
		case 'f':
			o->first = tool_arg_long(optarg, 0, MK_COUNT_MAX,
			    "bad first index");
			break;
		case 'u':
			if (nmore == MK_URLS_MAX - 1)
				tool_die("too many URLs", optarg);
			more[nmore++] = optarg;
			break;
		case 'v':
			o->vary = 1;
			break;
		default:
			tool_usage(MK_USAGE);
		}
	}
	if (argc - optind != 6)
		tool_usage(MK_USAGE);
	argv += optind;
	o->issuer_cert = argv[0];
	o->issuer_key = argv[1];
	o->urls[o->nurls++] = argv[2];
	for (k = 0; k < nmore; k++)
		o->urls[o->nurls++] = more[k];
	o->dir = argv[3];
	o->domain = argv[4];
	o->count = tool_arg_long(argv[5], 1, MK_COUNT_MAX - o->first,
	    "bad count");
}

int
main(int argc, char *argv[])
{
	struct mk_opts	 o;
	struct mk_ca	 ca;
	char		 name[MK_HOST_MAX];
	long		 i;

	mk_parse_args(argc, argv, &o);

	ca.cert = tool_load_cert(o.issuer_cert);
	ca.key = tool_load_key(o.issuer_key);
	ca.leaf_key = tool_key_new();

	for (i = o.first; i < o.first + o.count; i++) {
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
