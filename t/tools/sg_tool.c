/*
 * sg_tool.c -- helpers the test and benchmark tools share (see sg_tool.h).
 */

#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "sg_tool.h"

void
tool_usage(const char *args)
{
	fprintf(stderr, "usage: %s %s", tool_name, args);
	exit(2);
}

void
tool_die(const char *what, const char *arg)
{
	fprintf(stderr, "%s: %s%s%s\n", tool_name, what, arg ? ": " : "",
	    arg ? arg : "");
	ERR_print_errors_fp(stderr);
	exit(1);
}

int
tool_parse_long(const char *s, long min, long max, long *out)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

long
tool_arg_long(const char *s, long min, long max, const char *what)
{
	long	 v;

	if (tool_parse_long(s, min, max, &v) == -1)
		tool_die(what, s);
	return v;
}

/* ---- files ------------------------------------------------------------ */

FILE *
tool_fopen(const char *path, const char *mode)
{
	FILE	*fp;

	if ((fp = fopen(path, mode)) == NULL)
		tool_die(path, strerror(errno));
	return fp;
}

void
tool_fclose(FILE *fp, int ok, const char *path)
{
	/* Closed in any case; a full disk may only show when it flushes. */
	if (fclose(fp) != 0 || !ok)
		tool_die("cannot write", path);
}

/* Closes fp, read from path: obj is what was read, NULL if nothing. */
static void *
tool_read_done(FILE *fp, void *obj, const char *what, const char *path)
{
	fclose(fp);
	if (obj == NULL)
		tool_die(what, path);
	return obj;
}

X509 *
tool_load_cert(const char *path)
{
	FILE	*fp = tool_fopen(path, "r");

	return tool_read_done(fp, PEM_read_X509(fp, NULL, NULL, NULL),
	    "cannot parse PEM certificate", path);
}

EVP_PKEY *
tool_load_key(const char *path)
{
	FILE	*fp = tool_fopen(path, "r");

	return tool_read_done(fp, PEM_read_PrivateKey(fp, NULL, NULL, NULL),
	    "cannot parse PEM private key", path);
}

/* ---- certificates ----------------------------------------------------- */

EVP_PKEY *
tool_key_new(void)
{
	EVP_PKEY	*k;

	if ((k = EVP_EC_gen(TOOL_CURVE)) == NULL)
		tool_die("cannot make a key", TOOL_CURVE);
	return k;
}

X509 *
tool_cert_new(long serial, const char *cn, X509 *issuer, EVP_PKEY *pub)
{
	X509	*x;

	if ((x = X509_new()) == NULL)
		tool_die("X509_new", NULL);
	if (issuer == NULL)
		issuer = x;	/* its name is set before it is copied */
	if (!X509_set_version(x, X509_VERSION_3) ||
	    !ASN1_INTEGER_set(X509_get_serialNumber(x), serial) ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -TOOL_BACKDATE) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), TOOL_LIFETIME) == NULL ||
	    !X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
	    MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(issuer)) ||
	    !X509_set_pubkey(x, pub))
		tool_die("cannot fill certificate", cn);
	return x;
}

void
tool_cert_sign(X509 *x, EVP_PKEY *key)
{
	if (X509_sign(x, key, EVP_sha256()) <= 0)
		tool_die("cannot sign certificate", NULL);
}

/* ---- sockets ---------------------------------------------------------- */

void
tool_sock_timeouts(int fd, long secs)
{
	struct timeval	 tv;

	tv.tv_sec = secs;
	tv.tv_usec = 0;
	/* Without them I/O only blocks longer: not worth dying for. */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}
