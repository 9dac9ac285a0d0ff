/*
 * sg_staplecheck -- whose OCSP response does each host staple?
 *
 * For every host name given it makes ONE TLS handshake to 127.0.0.1:port
 * with that name as SNI and status_request, as a browser would, and
 * judges the staple it is sent against the certificate it is served:
 *
 *   - the certificate is the host's (X509_check_host) and its issuer is
 *     in the chain sent with it;
 *   - the staple is a successful basic response with exactly one
 *     SingleResponse, whose CertID (hash algorithm, issuer name and key
 *     hashes, serial) is the one computed from that certificate and its
 *     issuer: another certificate's response, or a torn mix of two, fails
 *     here or at the next step;
 *   - its signature verifies (OCSP_basic_verify, the chain sent as
 *     untrusted certificates, -r's roots as the only trust), its status
 *     is good and its times are valid (OCSP_check_validity).
 *
 * One line per host, in the order given, for the test to parse:
 *
 *   HOST VERDICT serial=HEX staple=HEX len=N certs=N this=UNIXTIME
 *       [why=TEXT]
 *
 * VERDICT is "ok" or the first check that failed (connect, handshake,
 * wrongname, noissuer, none, undecodable, notsuccessful, notbasic, count,
 * othercert, badsig, notgood, times); serial is the served certificate's,
 * staple the serial in the staple's CertID, len the staple's bytes,
 * certs how many certificates the response carries (a delegated signer's),
 * this its thisUpdate (fields not known are "-"; why, OpenSSL's reason or
 * the system's, spaces made '_'). Exit: 0 when every host is ok, 3 when one is not,
 * 1 or 2 when the check could not run at all.
 *
 * Build: make build/tools/sg_staplecheck (with t/tools/sg_tool.c,
 * -lssl -lcrypto)
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "sg_tool.h"

#define SC_USAGE		"-p port -r roots.pem [-a address] " \
				"[-t seconds] host...\n"
#define SC_ADDR_DEFAULT		"127.0.0.1"
#define SC_TIMEOUT_DEFAULT	10	/* seconds per connection */
#define SC_TIMEOUT_MAX		300
#define SC_PORT_MIN		1
#define SC_PORT_MAX		65535
/* Clock skew allowed between the responder and this check: both run on
 * the same machine. */
#define SC_SKEW			60
#define SC_HEX_MAX		128	/* a serial as hex, 20 bytes at most */
#define SC_WHY_MAX		160	/* an OpenSSL reason, shortened */

#define SC_EXIT_ALL_OK		0
#define SC_EXIT_SOME_BAD	3

struct sc_opts {
	struct sockaddr_in	 sin;
	const char		*roots;
	long			 timeout;
};

/* What one handshake found, printed as one line. */
struct sc_result {
	const char	*verdict;
	char		 serial[SC_HEX_MAX];
	char		 staple[SC_HEX_MAX];
	char		 why[SC_WHY_MAX];
	long		 len;
	int		 certs;		/* -1: not known */
	long long	 this_upd;
	int		 has_this;
};

const char tool_name[] = "sg_staplecheck";

/* ---- small helpers ---------------------------------------------------- */

static void
sc_hex(const ASN1_INTEGER *ai, char out[SC_HEX_MAX])
{
	BIGNUM	*bn;
	char	*hex = NULL;

	snprintf(out, SC_HEX_MAX, "-");
	if ((bn = ASN1_INTEGER_to_BN(ai, NULL)) != NULL &&
	    (hex = BN_bn2hex(bn)) != NULL)
		snprintf(out, SC_HEX_MAX, "%s", hex);
	OPENSSL_free(hex);
	BN_free(bn);
}

/* A reason as one field of the line: spaces become '_'. */
static void
sc_set_why(struct sc_result *r, const char *why)
{
	char	*c;

	snprintf(r->why, sizeof(r->why), "%s", why);
	for (c = r->why; *c != '\0'; c++)
		if (*c == ' ')
			*c = '_';
}

/* The last OpenSSL error, if there is one. */
static void
sc_why(struct sc_result *r)
{
	unsigned long	 e = ERR_peek_last_error();
	char		 buf[SC_WHY_MAX];

	if (e == 0)
		return;
	ERR_error_string_n(e, buf, sizeof(buf));
	sc_set_why(r, buf);
	ERR_clear_error();
}

static const char *
sc_fail(struct sc_result *r, const char *verdict)
{
	sc_why(r);
	return r->verdict = verdict;
}

static int
sc_connect(const struct sc_opts *o)
{
	int	 fd;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	/* On Linux the send timeout bounds connect() too. */
	tool_sock_timeouts(fd, o->timeout);
	if (connect(fd, (const struct sockaddr *)&o->sin,
	    sizeof(o->sin)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The certificate in chain that issued leaf, or NULL. */
static X509 *
sc_issuer(STACK_OF(X509) *chain, X509 *leaf)
{
	int	 k;

	for (k = 0; k < sk_X509_num(chain); k++) {
		X509	*c = sk_X509_value(chain, k);

		if (X509_cmp(c, leaf) != 0 &&
		    X509_check_issued(c, leaf) == X509_V_OK)
			return c;
	}
	return NULL;
}

/* ---- judging the staple ---------------------------------------------- */

/* The CertID the response should carry, hashed as the response's is. */
static OCSP_CERTID *
sc_own_id(const OCSP_CERTID *theirs, X509 *leaf, X509 *issuer)
{
	ASN1_OBJECT	*alg = NULL;
	const EVP_MD	*md;

	if (!OCSP_id_get0_info(NULL, &alg, NULL, NULL,
	    (OCSP_CERTID *)theirs) ||
	    (md = EVP_get_digestbyobj(alg)) == NULL)
		md = EVP_sha1();
	return OCSP_cert_to_id(md, leaf, issuer);
}

/* Signature, status, times of the one SingleResponse. */
static const char *
sc_judge_single(struct sc_result *r, OCSP_BASICRESP *bs,
    OCSP_SINGLERESP *one, STACK_OF(X509) *chain, X509_STORE *roots)
{
	ASN1_GENERALIZEDTIME	*thisu = NULL, *nextu = NULL;
	struct tm		 tm;
	int			 status, reason;

	status = OCSP_single_get0_status(one, &reason, NULL, &thisu, &nextu);
	if (thisu != NULL && ASN1_TIME_to_tm(thisu, &tm) == 1) {
		r->this_upd = (long long)timegm(&tm);
		r->has_this = 1;
	}
	if (OCSP_basic_verify(bs, chain, roots, 0) != 1)
		return sc_fail(r, "badsig");
	if (status != V_OCSP_CERTSTATUS_GOOD)
		return sc_fail(r, "notgood");
	if (thisu == NULL ||
	    OCSP_check_validity(thisu, nextu, SC_SKEW, -1) != 1)
		return sc_fail(r, "times");
	return r->verdict = "ok";
}

static const char *
sc_judge_basic(struct sc_result *r, OCSP_BASICRESP *bs, X509 *leaf,
    X509 *issuer, STACK_OF(X509) *chain, X509_STORE *roots)
{
	OCSP_SINGLERESP		*one;
	const OCSP_CERTID	*theirs;
	OCSP_CERTID		*own;
	const STACK_OF(X509)	*certs;
	ASN1_INTEGER		*serial = NULL;
	int			 same;

	/* A response without certificates has no stack at all. */
	certs = OCSP_resp_get0_certs(bs);
	r->certs = certs != NULL ? sk_X509_num(certs) : 0;
	if (OCSP_resp_count(bs) != 1)
		return sc_fail(r, "count");
	one = OCSP_resp_get0(bs, 0);
	theirs = OCSP_SINGLERESP_get0_id(one);
	if (OCSP_id_get0_info(NULL, NULL, NULL, &serial,
	    (OCSP_CERTID *)theirs))
		sc_hex(serial, r->staple);
	if ((own = sc_own_id(theirs, leaf, issuer)) == NULL)
		return sc_fail(r, "othercert");
	same = OCSP_id_cmp(own, theirs) == 0;
	OCSP_CERTID_free(own);
	if (!same)
		return sc_fail(r, "othercert");
	return sc_judge_single(r, bs, one, chain, roots);
}

static const char *
sc_judge(struct sc_result *r, SSL *ssl, X509 *leaf, X509_STORE *roots)
{
	STACK_OF(X509)		*chain = SSL_get_peer_cert_chain(ssl);
	const unsigned char	*der, *p;
	OCSP_RESPONSE		*resp;
	OCSP_BASICRESP		*bs = NULL;
	X509			*issuer;
	long			 len;

	if ((issuer = sc_issuer(chain, leaf)) == NULL)
		return sc_fail(r, "noissuer");
	if ((len = SSL_get_tlsext_status_ocsp_resp(ssl, &der)) <= 0 ||
	    der == NULL)
		return sc_fail(r, "none");
	r->len = len;
	p = der;
	/* All of it must be one response: a tail would be a torn copy. */
	if ((resp = d2i_OCSP_RESPONSE(NULL, &p, len)) == NULL ||
	    p != der + len)
		sc_fail(r, "undecodable");
	else if (OCSP_response_status(resp) !=
	    OCSP_RESPONSE_STATUS_SUCCESSFUL)
		sc_fail(r, "notsuccessful");
	else if ((bs = OCSP_response_get1_basic(resp)) == NULL)
		sc_fail(r, "notbasic");
	else
		sc_judge_basic(r, bs, leaf, issuer, chain, roots);
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	return r->verdict;
}

/* ---- one host ---------------------------------------------------------- */

static void
sc_handshake(struct sc_result *r, SSL_CTX *ctx, const struct sc_opts *o,
    const char *host)
{
	X509_STORE	*roots = SSL_CTX_get_cert_store(ctx);
	SSL		*ssl = NULL;
	X509		*leaf = NULL;
	int		 fd;

	if ((fd = sc_connect(o)) == -1) {
		sc_set_why(r, strerror(errno));
		r->verdict = "connect";
		return;
	}
	if ((ssl = SSL_new(ctx)) == NULL || !SSL_set_fd(ssl, fd) ||
	    !SSL_set_tlsext_host_name(ssl, host) ||
	    !SSL_set_tlsext_status_type(ssl, TLSEXT_STATUSTYPE_ocsp) ||
	    SSL_connect(ssl) != 1 ||
	    (leaf = SSL_get1_peer_certificate(ssl)) == NULL)
		sc_fail(r, "handshake");
	else {
		sc_hex(X509_get0_serialNumber(leaf), r->serial);
		if (X509_check_host(leaf, host, 0, 0, NULL) != 1)
			sc_fail(r, "wrongname");
		else
			sc_judge(r, ssl, leaf, roots);
		(void)SSL_shutdown(ssl);
	}
	X509_free(leaf);
	SSL_free(ssl);
	close(fd);
}

static int
sc_check(SSL_CTX *ctx, const struct sc_opts *o, const char *host)
{
	struct sc_result	 r;

	memset(&r, 0, sizeof(r));
	r.certs = -1;
	snprintf(r.serial, sizeof(r.serial), "-");
	snprintf(r.staple, sizeof(r.staple), "-");
	sc_handshake(&r, ctx, o, host);
	printf("%s %s serial=%s staple=%s len=%ld certs=", host, r.verdict,
	    r.serial, r.staple, r.len);
	if (r.certs >= 0)
		printf("%d", r.certs);
	else
		printf("-");
	printf(" this=");
	if (r.has_this)
		printf("%lld", r.this_upd);
	else
		printf("-");
	printf("%s%s\n", r.why[0] != '\0' ? " why=" : "", r.why);
	return strcmp(r.verdict, "ok") == 0;
}

/* ---- setup ------------------------------------------------------------- */

static void
sc_parse_args(int argc, char *argv[], struct sc_opts *o)
{
	const char	*addr = SC_ADDR_DEFAULT;
	long		 port = 0;
	int		 ch;

	memset(o, 0, sizeof(*o));
	o->timeout = SC_TIMEOUT_DEFAULT;
	while ((ch = getopt(argc, argv, "p:r:a:t:")) != -1) {
		switch (ch) {
		case 'p':
			port = tool_arg_long(optarg, SC_PORT_MIN, SC_PORT_MAX,
			    "bad port");
			break;
		case 'r':
			o->roots = optarg;
			break;
		case 'a':
			addr = optarg;
			break;
		case 't':
			o->timeout = tool_arg_long(optarg, 1, SC_TIMEOUT_MAX,
			    "bad timeout");
			break;
		default:
			tool_usage(SC_USAGE);
		}
	}
	if (port == 0 || o->roots == NULL || optind == argc)
		tool_usage(SC_USAGE);
	o->sin.sin_family = AF_INET;
	o->sin.sin_port = htons((unsigned short)port);
	if (inet_pton(AF_INET, addr, &o->sin.sin_addr) != 1)
		tool_die("not an IPv4 address", addr);
}

/* No session is kept, so every handshake is a full one with its staple;
 * the server's chain is not verified here (the staple is what is judged,
 * with its own chain check in OCSP_basic_verify). */
static SSL_CTX *
sc_ctx(const struct sc_opts *o)
{
	SSL_CTX	*ctx;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		tool_die("SSL_CTX_new", NULL);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	if (SSL_CTX_load_verify_locations(ctx, o->roots, NULL) != 1)
		tool_die("cannot load roots", o->roots);
	return ctx;
}

int
main(int argc, char *argv[])
{
	struct sc_opts	 o;
	SSL_CTX		*ctx;
	int		 k, bad = 0;

	sc_parse_args(argc, argv, &o);
	ctx = sc_ctx(&o);
	for (k = optind; k < argc; k++)
		bad += !sc_check(ctx, &o, argv[k]);
	SSL_CTX_free(ctx);
	if (fflush(stdout) != 0)
		tool_die("stdout", strerror(errno));
	return bad == 0 ? SC_EXIT_ALL_OK : SC_EXIT_SOME_BAD;
}
