/*
 * sg_responder -- fault-injecting OCSP responder for mod_staple_guard tests.
 *
 * Speaks just enough HTTP/1.0 on 127.0.0.1 to answer OCSP GET and POST
 * requests.  What it answers is decided per request by the first word of
 * a mode file, so a test can switch faults without restarting anything.
 * Every request is appended to a log file so tests can count and time
 * the fetches the module makes.  -p may be given several times: one
 * responder then listens on several ports, which the module counts as as
 * many responder hosts (it asks at most 2 fetches of one at once), so
 * that a test can have many fetches at once (t/37).
 *
 * Build: make build/tools/sg_responder (with ./sg_tool.c, -lcrypto)
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>

#include "sg_tool.h"

#define RSP_NAME		"sg_responder"
#define RSP_USAGE		"-p port [-p port]... -i issuer.pem -s signer.pem " \
				"-k signer.key -m modefile -l logfile\n" \
				"       [-V validity_seconds] [-x extra_cert.pem]\n"

#define RSP_HDR_MAX		(64 * 1024)	/* request header limit */
#define RSP_BODY_MAX		(64 * 1024)	/* OCSP requests are tiny */
#define RSP_MODE_MAX		256		/* bytes of the mode file read */
#define RSP_WORD_MAX		32		/* longest mode word kept */
#define RSP_LOG_LINE		128
#define RSP_HEAD_MAX		256		/* our own response header */
#define RSP_LOG_PERM		0644
#define RSP_BACKLOG		64
#define RSP_PORTS_MAX		64	/* -p given this many times at most */

#define RSP_POLL_SEC		1	/* how often a child checks its parent */
#define RSP_SLEEP_MAX		120	/* no child sleeps longer than this */
#define RSP_IO_DEADLINE		30	/* seconds for one read or write phase */

#define RSP_PORT_MIN		1
#define RSP_PORT_MAX		65535
#define RSP_VALIDITY_DEFAULT	3600
#define RSP_VALIDITY_MAX	(10L * 366 * 24 * 3600)
#define RSP_SLOW_DEFAULT	5
#define RSP_STATUS_MAX		127	/* keeps the ENUMERATED one byte */

#define RSP_REVOKED_AGO		3600	/* revocationTime for "revoked" */
#define RSP_NOTYET_AHEAD	7200	/* thisUpdate offset for "notyet" */
#define RSP_OLD_AGO		600	/* thisUpdate offset for "old" */
#define RSP_PRODUCED_AHEAD	7200	/* producedAt for "futureproduced" */
/* thisUpdate offset for "aged": 11 days, past the 10 Firefox accepts
 * whatever nextUpdate says (nextUpdate stays ahead). */
#define RSP_AGED_AGO		(11L * 24 * 3600)

#define RSP_OVERSIZE_LEN	(1024 * 1024)
#define RSP_CHUNK		(16 * 1024)

#define RSP_UNRELATED_CN	"Unrelated Responder"
#define RSP_UNRELATED_SERIAL	1

#define RSP_NS_PER_MS		1000000L
#define RSP_HEX_BASE		16

#define RSP_HTTP_200		"200 OK"
#define RSP_HTTP_400		"400 Bad Request"
#define RSP_HTTP_404		"404 Not Found"
#define RSP_HTTP_500		"500 Internal Server Error"

#define RSP_CT_OCSP		"application/ocsp-response"
#define RSP_CT_HTML		"text/html"
/* The same media type as RSP_CT_OCSP (RFC 9110 8.3.1). */
#define RSP_CT_OCSP_PARAMS	"Application/OCSP-Response; charset=binary"
#define RSP_HTML_PAGE		"<html><body>Access policy</body></html>\n"
#define RSP_CT_TEXT		"text/plain"

#define RSP_GARBAGE		"this is not an OCSP response\n"
#define RSP_HDR_END		"\r\n\r\n"
#define RSP_CRLF		"\r\n"
#define RSP_CLEN		"Content-Length:"
#define RSP_HTTP1		"HTTP/1."
#define RSP_WS			" \t\r\n"

#define RSP_STRLEN(s)		(sizeof(s) - 1)

enum rsp_rc {
	RSP_OK = 0,
	RSP_EIO,		/* peer gone, timeout or parent gone */
	RSP_EBAD		/* not an HTTP request we understand */
};

enum rsp_id {
	RSP_M_GOOD,
	RSP_M_REVOKED,
	RSP_M_UNKNOWN,
	RSP_M_STATUS,
	RSP_M_HTTP404,
	RSP_M_HTTP500,
	RSP_M_GARBAGE,
	RSP_M_WRONGTYPE,
	RSP_M_EMPTY,
	RSP_M_OVERSIZE,
	RSP_M_HANG,
	RSP_M_SLOW,
	RSP_M_WRONGKEY,
	RSP_M_OTHERCERT,
	RSP_M_EXPIRED,
	RSP_M_NOTYET,
	RSP_M_NONEXT,
	RSP_M_OLD,
	RSP_M_FUTUREPRODUCED,
	RSP_M_SHA256ID,
	RSP_M_AGED,
	RSP_M_TYPEPARAMS,
	RSP_M_HTML,
	RSP_M_CLOSE,
	RSP_M_GET400,
	RSP_M_GETHTML,
	RSP_M_BADMODE
};

static const struct rsp_mode {
	const char	*name;
	enum rsp_id	 id;
} rsp_modes[] = {
	{ "good",		RSP_M_GOOD },
	{ "revoked",		RSP_M_REVOKED },
	{ "unknown",		RSP_M_UNKNOWN },
	{ "status",		RSP_M_STATUS },
	{ "http404",		RSP_M_HTTP404 },
	{ "http500",		RSP_M_HTTP500 },
	{ "garbage",		RSP_M_GARBAGE },
	{ "wrongtype",		RSP_M_WRONGTYPE },
	{ "empty",		RSP_M_EMPTY },
	{ "oversize",		RSP_M_OVERSIZE },
	{ "hang",		RSP_M_HANG },
	{ "slow",		RSP_M_SLOW },
	{ "wrongkey",		RSP_M_WRONGKEY },
	{ "othercert",		RSP_M_OTHERCERT },
	{ "expired",		RSP_M_EXPIRED },
	{ "notyet",		RSP_M_NOTYET },
	{ "nonext",		RSP_M_NONEXT },
	{ "old",		RSP_M_OLD },
	{ "futureproduced",	RSP_M_FUTUREPRODUCED },
	{ "sha256id",		RSP_M_SHA256ID },
	{ "aged",		RSP_M_AGED },
	{ "typeparams",		RSP_M_TYPEPARAMS },
	{ "html",		RSP_M_HTML },
	{ "close",		RSP_M_CLOSE },
	{ "get400",		RSP_M_GET400 },
	{ "gethtml",		RSP_M_GETHTML },
	{ NULL,			RSP_M_BADMODE }
};

struct rsp_conf {
	X509		*issuer;
	X509		*signer;
	EVP_PKEY	*key;
	X509		*extra;		/* -x, may be NULL */
	X509		*alt_cert;	/* signer for "wrongkey" */
	EVP_PKEY	*alt_key;
	const char	*modefile;
	const char	*logfile;
	long		 validity;
	int		 ports[RSP_PORTS_MAX];
	int		 nports;
	int		 signer_is_issuer;
	pid_t		 parent;
};

struct rsp_req {
	char		 method[8];
	unsigned char	*der;
	size_t		 derlen;
	OCSP_REQUEST	*ocsp;		/* NULL if the body did not parse */
};

struct rsp_sel {
	char		 word[RSP_WORD_MAX];
	enum rsp_id	 id;
	long		 arg;
	int		 has_arg;
};

struct rsp_spec {
	int		 status;	/* V_OCSP_CERTSTATUS_* */
	time_t		 this_upd;
	time_t		 next_upd;
	time_t		 produced;
	time_t		 revoked;
	int		 has_next;
	int		 other_serial;
	int		 wrong_key;
	int		 certid_sha256;	/* CertID re-hashed with SHA-256 */
};

const char tool_name[] = RSP_NAME;

/* ---- startup ---------------------------------------------------------- */

/*
 * "wrongkey" needs a signer nobody trusts.  A fresh key per run makes
 * sure no test PKI can accidentally chain to it.
 */
static void
rsp_make_unrelated(struct rsp_conf *cf)
{
	cf->alt_key = tool_key_new();
	cf->alt_cert = tool_cert_new(RSP_UNRELATED_SERIAL, RSP_UNRELATED_CN,
	    NULL, cf->alt_key);
	tool_cert_sign(cf->alt_cert, cf->alt_key);
}

static void
rsp_check_logfile(const char *path)
{
	int	 fd;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    RSP_LOG_PERM);
	if (fd == -1)
		tool_die(path, strerror(errno));
	close(fd);
}

static void
rsp_parse_args(int argc, char *argv[], struct rsp_conf *cf)
{
	const char	*issuer = NULL, *signer = NULL, *key = NULL;
	const char	*extra = NULL;
	int		 ch;

	cf->validity = RSP_VALIDITY_DEFAULT;
	while ((ch = getopt(argc, argv, "p:i:s:k:m:l:V:x:")) != -1) {
		switch (ch) {
		case 'p':
			if (cf->nports == RSP_PORTS_MAX)
				tool_die("too many ports", optarg);
			cf->ports[cf->nports++] = (int)tool_arg_long(optarg,
			    RSP_PORT_MIN, RSP_PORT_MAX, "bad port");
			break;
		case 'i':
			issuer = optarg;
			break;
		case 's':
			signer = optarg;
			break;
		case 'k':
			key = optarg;
			break;
		case 'm':
			cf->modefile = optarg;
			break;
		case 'l':
			cf->logfile = optarg;
			break;
		case 'V':
			cf->validity = tool_arg_long(optarg, 0,
			    RSP_VALIDITY_MAX, "bad validity");
			break;
		case 'x':
			extra = optarg;
			break;
		default:
			tool_usage(RSP_USAGE);
		}
	}
	if (optind != argc || cf->nports == 0 || issuer == NULL ||
	    signer == NULL || key == NULL || cf->modefile == NULL ||
	    cf->logfile == NULL)
		tool_usage(RSP_USAGE);

	cf->issuer = tool_load_cert(issuer);
	cf->signer = tool_load_cert(signer);
	cf->key = tool_load_key(key);
	if (extra != NULL)
		cf->extra = tool_load_cert(extra);
	if (X509_check_private_key(cf->signer, cf->key) != 1)
		tool_die("signer key does not match signer certificate", key);
	cf->signer_is_issuer = X509_cmp(cf->signer, cf->issuer) == 0;
	rsp_check_logfile(cf->logfile);
	rsp_make_unrelated(cf);
}

static int
rsp_listen(int port)
{
	struct sockaddr_in	 sin;
	int			 fd, on = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		tool_die("socket", strerror(errno));
	/* Tests restart the responder on the same port in quick succession. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1)
		tool_die("SO_REUSEADDR", strerror(errno));

	/* Loopback only: this thing answers anything for anyone. */
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		tool_die("bind 127.0.0.1", strerror(errno));
	if (listen(fd, RSP_BACKLOG) == -1)
		tool_die("listen", strerror(errno));
	return fd;
}

static void
rsp_signals(void)
{
	struct sigaction	 sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_IGN;
	/* Let the kernel reap children; we never care how they ended. */
	if (sigaction(SIGCHLD, &sa, NULL) == -1 ||
	    sigaction(SIGPIPE, &sa, NULL) == -1)
		tool_die("sigaction", strerror(errno));
}

/* ---- child: liveness and I/O ----------------------------------------- */

static int
rsp_parent_alive(const struct rsp_conf *cf)
{
	return getppid() == cf->parent;
}

/*
 * Sleep in one second steps so a child whose parent was killed goes away
 * promptly instead of lingering for the rest of a "hang" or "slow".
 */
static int
rsp_sleep(const struct rsp_conf *cf, long secs)
{
	long	 i;

	if (secs > RSP_SLEEP_MAX)
		secs = RSP_SLEEP_MAX;
	for (i = 0; i < secs; i += RSP_POLL_SEC) {
		if (!rsp_parent_alive(cf))
			return -1;
		sleep(RSP_POLL_SEC);
	}
	return rsp_parent_alive(cf) ? 0 : -1;
}

static int
rsp_io_retry(const struct rsp_conf *cf, time_t deadline)
{
	if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		return 0;
	return rsp_parent_alive(cf) && time(NULL) < deadline;
}

static ssize_t
rsp_recv(const struct rsp_conf *cf, int fd, void *buf, size_t len,
    time_t deadline)
{
	ssize_t	 n;

	for (;;) {
		if ((n = recv(fd, buf, len, 0)) >= 0)
			return n;
		if (!rsp_io_retry(cf, deadline))
			return -1;
	}
}

static int
rsp_send_all(const struct rsp_conf *cf, int fd, const void *buf, size_t len,
    time_t deadline)
{
	const char	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		/* MSG_NOSIGNAL: a peer closing early is expected, not fatal. */
		if ((n = send(fd, p, len, MSG_NOSIGNAL)) == -1) {
			if (!rsp_io_retry(cf, deadline))
				return -1;
			continue;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* ---- child: HTTP request parsing ------------------------------------- */

static char *
rsp_memfind(char *hay, size_t len, const char *needle)
{
	size_t	 nlen = strlen(needle), i;

	for (i = 0; i + nlen <= len; i++)
		if (memcmp(hay + i, needle, nlen) == 0)
			return hay + i;
	return NULL;
}

static int
rsp_hexval(int c)
{
	if (isdigit(c))
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decode %XX in place; a broken escape is kept literally. */
static size_t
rsp_url_decode(char *s)
{
	char	*r = s, *w = s;
	int	 hi, lo;

	while (*r != '\0') {
		if (r[0] == '%' && (hi = rsp_hexval((unsigned char)r[1])) >= 0
		    && (lo = rsp_hexval((unsigned char)r[2])) >= 0) {
			*w++ = (char)(hi * RSP_HEX_BASE + lo);
			r += 3;
		} else
			*w++ = *r++;
	}
	*w = '\0';
	return (size_t)(w - s);
}

static int
rsp_b64_decode(const char *in, size_t len, struct rsp_req *rq)
{
	EVP_ENCODE_CTX	*ctx;
	unsigned char	*out;
	int		 n, fin, ok;

	if (len > INT_MAX || (ctx = EVP_ENCODE_CTX_new()) == NULL)
		return -1;
	/* Decoded data is never longer than its base64 text. */
	if ((out = malloc(len + 1)) == NULL) {
		EVP_ENCODE_CTX_free(ctx);
		return -1;
	}
	EVP_DecodeInit(ctx);
	ok = EVP_DecodeUpdate(ctx, out, &n, (const unsigned char *)in,
	    (int)len) != -1 && EVP_DecodeFinal(ctx, out + n, &fin) == 1;
	EVP_ENCODE_CTX_free(ctx);
	if (!ok) {
		free(out);
		return -1;
	}
	rq->der = out;
	rq->derlen = (size_t)(n + fin);
	return 0;
}

/*
 * RFC 6960 A.1: GET {url}/{url-encoding of base-64 encoding of DER}.
 * Bad base64 is left for the mode to judge, like a bad DER body, so
 * such a request is still logged and answered.
 */
static int
rsp_get_body(char *target, struct rsp_req *rq)
{
	char	*seg;

	if ((seg = strrchr(target, '/')) == NULL)
		return RSP_EBAD;
	seg++;
	(void)rsp_b64_decode(seg, rsp_url_decode(seg), rq);
	return RSP_OK;
}

static long
rsp_content_length(char *hdrs)
{
	char	*line, *next;
	long	 v;

	for (line = hdrs; *line != '\0'; line = next) {
		if ((next = strstr(line, RSP_CRLF)) == NULL)
			break;
		*next = '\0';
		next += RSP_STRLEN(RSP_CRLF);
		if (*line == '\0')
			break;		/* blank line: the body follows */
		if (strncasecmp(line, RSP_CLEN, RSP_STRLEN(RSP_CLEN)) != 0)
			continue;
		line += RSP_STRLEN(RSP_CLEN);
		line += strspn(line, " \t");
		if (tool_parse_long(line, 0, RSP_BODY_MAX, &v) == -1)
			return -1;
		return v;
	}
	return -1;
}

/*
 * Is there a header "name: value" (both case-insensitive) before the blank
 * line? Leaves hdrs as it is. A strict responder (or its CDN) refuses a
 * POST without the RFC 6960 A.1 content type, so this one does too.
 */
static int
rsp_has_header(const char *hdrs, const char *name, const char *value)
{
	const char	*line, *next, *v;
	size_t		 nlen = strlen(name), vlen = strlen(value);

	for (line = hdrs; (next = strstr(line, RSP_CRLF)) != NULL &&
	    next != line; line = next + RSP_STRLEN(RSP_CRLF)) {
		if (strncasecmp(line, name, nlen) != 0 || line[nlen] != ':')
			continue;
		v = line + nlen + 1;
		v += strspn(v, " \t");
		if ((size_t)(next - v) == vlen && strncasecmp(v, value, vlen) == 0)
			return 1;
	}
	return 0;
}

static int
rsp_post_body(const struct rsp_conf *cf, int fd, char *hdrs,
    const char *have, size_t havelen, struct rsp_req *rq, time_t deadline)
{
	long	 clen;
	size_t	 got;
	ssize_t	 n;

	if ((clen = rsp_content_length(hdrs)) < 0 || havelen > (size_t)clen)
		return RSP_EBAD;
	if (clen == 0)
		return RSP_OK;		/* empty body: the mode decides */
	if ((rq->der = malloc((size_t)clen)) == NULL)
		return RSP_EIO;
	memcpy(rq->der, have, havelen);
	for (got = havelen; got < (size_t)clen; got += (size_t)n)
		if ((n = rsp_recv(cf, fd, rq->der + got, (size_t)clen - got,
		    deadline)) <= 0)
			return RSP_EIO;
	rq->derlen = (size_t)clen;
	return RSP_OK;
}

static ssize_t
rsp_read_header(const struct rsp_conf *cf, int fd, char *buf, size_t *lenp,
    time_t deadline)
{
	char	*end;
	size_t	 len = 0;
	ssize_t	 n;

	for (;;) {
		if (len == RSP_HDR_MAX)
			return -1;
		if ((n = rsp_recv(cf, fd, buf + len, RSP_HDR_MAX - len,
		    deadline)) <= 0)
			return -1;
		len += (size_t)n;
		buf[len] = '\0';
		if ((end = rsp_memfind(buf, len, RSP_HDR_END)) != NULL)
			break;
	}
	*lenp = len;
	/* Length of the header including the blank line. */
	return end - buf + (ssize_t)RSP_STRLEN(RSP_HDR_END);
}

/* Split "METHOD TARGET HTTP/1.x" in place; *hdrs is left after its CRLF. */
static int
rsp_request_line(char *buf, struct rsp_req *rq, char **target, char **hdrs)
{
	char	*eol, *sp, *ver;

	/* A NUL byte in the header could hide the CRLF from strstr(). */
	if ((eol = strstr(buf, RSP_CRLF)) == NULL)
		return RSP_EBAD;
	*eol = '\0';
	*hdrs = eol + RSP_STRLEN(RSP_CRLF);
	if ((sp = strchr(buf, ' ')) == NULL)
		return RSP_EBAD;
	*sp = '\0';
	*target = sp + 1;
	if ((ver = strchr(*target, ' ')) == NULL)
		return RSP_EBAD;
	*ver++ = '\0';
	if (strncmp(ver, RSP_HTTP1, RSP_STRLEN(RSP_HTTP1)) != 0)
		return RSP_EBAD;
	if (strcmp(buf, "GET") != 0 && strcmp(buf, "POST") != 0)
		return RSP_EBAD;
	snprintf(rq->method, sizeof(rq->method), "%s", buf);
	return RSP_OK;
}

static int
rsp_read_request(const struct rsp_conf *cf, int fd, struct rsp_req *rq)
{
	char		*buf, *target, *hdrs;
	const unsigned char *p;
	size_t		 len;
	ssize_t		 hlen;
	time_t		 deadline = time(NULL) + RSP_IO_DEADLINE;
	int		 rc;

	if ((buf = malloc(RSP_HDR_MAX + 1)) == NULL)
		return RSP_EIO;
	rc = RSP_EIO;
	if ((hlen = rsp_read_header(cf, fd, buf, &len, deadline)) != -1 &&
	    (rc = rsp_request_line(buf, rq, &target, &hdrs)) == RSP_OK) {
		if (strcmp(rq->method, "GET") == 0)
			rc = rsp_get_body(target, rq);
		else if (!rsp_has_header(hdrs, "Content-Type",
		    "application/ocsp-request"))
			rc = RSP_EBAD;
		else
			rc = rsp_post_body(cf, fd, hdrs, buf + hlen,
			    len - (size_t)hlen, rq, deadline);
	}
	free(buf);
	if (rc != RSP_OK)
		return rc;

	/* A bad DER body is not an HTTP error; the mode decides. */
	p = rq->der;
	if (p != NULL && rq->derlen > 0 && rq->derlen <= LONG_MAX)
		rq->ocsp = d2i_OCSP_REQUEST(NULL, &p, (long)rq->derlen);
	return RSP_OK;
}

static void
rsp_req_free(struct rsp_req *rq)
{
	OCSP_REQUEST_free(rq->ocsp);
	free(rq->der);
}

/* ---- child: mode and log --------------------------------------------- */

static enum rsp_id
rsp_mode_lookup(const char *word)
{
	const struct rsp_mode	*m;

	for (m = rsp_modes; m->name != NULL; m++)
		if (strcmp(m->name, word) == 0)
			return m->id;
	return RSP_M_BADMODE;
}

/* Re-read every time so tests can change behaviour between requests. */
static void
rsp_read_mode(const char *path, struct rsp_sel *sel)
{
	char	 buf[RSP_MODE_MAX], *word, *arg, *save;
	ssize_t	 n;
	int	 fd;

	memset(sel, 0, sizeof(*sel));
	snprintf(sel->word, sizeof(sel->word), "%s", "good");
	sel->id = RSP_M_GOOD;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno != ENOENT)
			fprintf(stderr, RSP_NAME ": %s: %s, using good\n",
			    path, strerror(errno));
		return;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	if ((word = strtok_r(buf, RSP_WS, &save)) == NULL)
		return;
	snprintf(sel->word, sizeof(sel->word), "%s", word);
	sel->id = rsp_mode_lookup(sel->word);
	if ((arg = strtok_r(NULL, RSP_WS, &save)) != NULL &&
	    tool_parse_long(arg, LONG_MIN, LONG_MAX, &sel->arg) == 0)
		sel->has_arg = 1;
	if (sel->id == RSP_M_BADMODE)
		fprintf(stderr, RSP_NAME ": unknown mode \"%s\", "
		    "answering internalError\n", sel->word);
}

/* One write() on an O_APPEND fd keeps lines whole across children. */
static void
rsp_log(const struct rsp_conf *cf, const char *method, const char *mode)
{
	struct timespec	 ts;
	char		 line[RSP_LOG_LINE];
	int		 fd, n;

	clock_gettime(CLOCK_REALTIME, &ts);
	n = snprintf(line, sizeof(line), "%lld.%03ld %s %s\n",
	    (long long)ts.tv_sec, ts.tv_nsec / RSP_NS_PER_MS, method, mode);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	fd = open(cf->logfile, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    RSP_LOG_PERM);
	if (fd == -1) {
		fprintf(stderr, RSP_NAME ": %s: %s\n", cf->logfile,
		    strerror(errno));
		return;
	}
	if (write(fd, line, (size_t)n) != n)
		fprintf(stderr, RSP_NAME ": short write to %s\n", cf->logfile);
	close(fd);
}

/* ---- child: building OCSP responses ---------------------------------- */

static void
rsp_spec_init(const struct rsp_conf *cf, enum rsp_id id, time_t now,
    struct rsp_spec *sp)
{
	memset(sp, 0, sizeof(*sp));
	sp->status = V_OCSP_CERTSTATUS_GOOD;
	sp->this_upd = now;
	sp->next_upd = now + cf->validity;
	sp->produced = now;
	sp->has_next = 1;

	switch (id) {
	case RSP_M_REVOKED:
		sp->status = V_OCSP_CERTSTATUS_REVOKED;
		sp->revoked = now - RSP_REVOKED_AGO;
		break;
	case RSP_M_UNKNOWN:
		sp->status = V_OCSP_CERTSTATUS_UNKNOWN;
		break;
	case RSP_M_WRONGKEY:
		sp->wrong_key = 1;
		break;
	case RSP_M_OTHERCERT:
		sp->other_serial = 1;
		break;
	case RSP_M_EXPIRED:
		sp->this_upd = now - 2 * cf->validity;
		sp->next_upd = now - cf->validity;
		break;
	case RSP_M_NOTYET:
		sp->this_upd = now + RSP_NOTYET_AHEAD;
		sp->next_upd = sp->this_upd + cf->validity;
		break;
	case RSP_M_NONEXT:
		sp->has_next = 0;
		break;
	case RSP_M_OLD:
		sp->this_upd = now - RSP_OLD_AGO;
		break;
	case RSP_M_FUTUREPRODUCED:
		sp->produced = now + RSP_PRODUCED_AHEAD;
		break;
	case RSP_M_SHA256ID:
		sp->certid_sha256 = 1;
		break;
	case RSP_M_AGED:
		sp->this_upd = now - RSP_AGED_AGO;
		break;
	default:
		break;
	}
}

/* CertID for the requested serial + 1, hashed from our issuer. */
static OCSP_CERTID *
rsp_certid_other(const struct rsp_conf *cf, OCSP_CERTID *req_id)
{
	ASN1_OBJECT	*md_obj;
	ASN1_INTEGER	*serial, *next = NULL;
	const EVP_MD	*md;
	OCSP_CERTID	*id = NULL;
	BIGNUM		*bn;

	if (!OCSP_id_get0_info(NULL, &md_obj, NULL, &serial, req_id))
		return NULL;
	/* Hash like the client did, or the hashes could never match. */
	if ((md = EVP_get_digestbyobj(md_obj)) == NULL)
		md = EVP_sha1();
	if ((bn = ASN1_INTEGER_to_BN(serial, NULL)) != NULL &&
	    BN_add_word(bn, 1) && (next = BN_to_ASN1_INTEGER(bn, NULL)) != NULL)
		id = OCSP_cert_id_new(md, X509_get_subject_name(cf->issuer),
		    X509_get0_pubkey_bitstr(cf->issuer), next);
	ASN1_INTEGER_free(next);
	BN_free(bn);
	return id;
}

/*
 * The requested serial's CertID hashed with SHA-256, as some private
 * responders answer whatever the request used.
 */
static OCSP_CERTID *
rsp_certid_sha256(const struct rsp_conf *cf, OCSP_CERTID *req_id)
{
	ASN1_INTEGER	*serial;

	if (!OCSP_id_get0_info(NULL, NULL, NULL, &serial, req_id))
		return NULL;
	return OCSP_cert_id_new(EVP_sha256(), X509_get_subject_name(cf->issuer),
	    X509_get0_pubkey_bitstr(cf->issuer), serial);
}

static OCSP_CERTID *
rsp_certid(const struct rsp_conf *cf, OCSP_REQUEST *req, int other)
{
	OCSP_CERTID	*req_id;

	req_id = OCSP_onereq_get0_id(OCSP_request_onereq_get0(req, 0));
	if (req_id == NULL)
		return NULL;
	if (other)
		return rsp_certid_other(cf, req_id);
	return OCSP_CERTID_dup(req_id);
}

static int
rsp_add_status(OCSP_BASICRESP *bs, OCSP_CERTID *id, const struct rsp_spec *sp)
{
	ASN1_TIME	*thist, *nextt = NULL, *revt = NULL;
	int		 ok = 0;

	thist = ASN1_GENERALIZEDTIME_set(NULL, sp->this_upd);
	if (sp->has_next)
		nextt = ASN1_GENERALIZEDTIME_set(NULL, sp->next_upd);
	if (sp->status == V_OCSP_CERTSTATUS_REVOKED)
		revt = ASN1_GENERALIZEDTIME_set(NULL, sp->revoked);
	if (thist != NULL && (nextt != NULL || !sp->has_next) &&
	    (revt != NULL || sp->status != V_OCSP_CERTSTATUS_REVOKED))
		ok = OCSP_basic_add1_status(bs, id, sp->status,
		    OCSP_REVOKED_STATUS_KEYCOMPROMISE, revt, thist,
		    nextt) != NULL;
	ASN1_TIME_free(thist);
	ASN1_TIME_free(nextt);
	ASN1_TIME_free(revt);
	return ok;
}

/*
 * There is no public setter for producedAt.  OCSP_resp_get0_produced_at()
 * returns the field itself though, so write through it and later sign
 * with OCSP_NOTIME, which stops OCSP_basic_sign() from overwriting it.
 * Doing this for every mode also keeps all times from one clock read.
 */
static int
rsp_set_produced(OCSP_BASICRESP *bs, time_t t)
{
	ASN1_GENERALIZEDTIME	*pa;

	pa = (ASN1_GENERALIZEDTIME *)OCSP_resp_get0_produced_at(bs);
	return pa != NULL && ASN1_GENERALIZEDTIME_set(pa, t) != NULL;
}

/*
 * Certs are added by hand (signing uses OCSP_NOCERTS) because the signer
 * must be left out when it is the issuer, while -x must still go in.
 */
static int
rsp_add_certs(const struct rsp_conf *cf, OCSP_BASICRESP *bs, int wrong_key)
{
	if (wrong_key) {
		if (!OCSP_basic_add1_cert(bs, cf->alt_cert))
			return 0;
	} else if (!cf->signer_is_issuer) {
		if (!OCSP_basic_add1_cert(bs, cf->signer))
			return 0;
	}
	if (cf->extra != NULL && !OCSP_basic_add1_cert(bs, cf->extra))
		return 0;
	return 1;
}

static OCSP_RESPONSE *
rsp_build(const struct rsp_conf *cf, OCSP_REQUEST *req,
    const struct rsp_spec *sp)
{
	OCSP_BASICRESP	*bs = NULL;
	OCSP_CERTID	*id;
	OCSP_RESPONSE	*resp = NULL;
	X509		*signer = sp->wrong_key ? cf->alt_cert : cf->signer;
	EVP_PKEY	*key = sp->wrong_key ? cf->alt_key : cf->key;

	/* No nonce is ever added: stapled responses cannot carry one. */
	if ((id = sp->certid_sha256 ? rsp_certid_sha256(cf,
	    OCSP_onereq_get0_id(OCSP_request_onereq_get0(req, 0))) :
	    rsp_certid(cf, req, sp->other_serial)) == NULL ||
	    (bs = OCSP_BASICRESP_new()) == NULL)
		goto done;
	if (rsp_add_status(bs, id, sp) && rsp_set_produced(bs, sp->produced) &&
	    rsp_add_certs(cf, bs, sp->wrong_key) &&
	    OCSP_basic_sign(bs, signer, key, EVP_sha256(), NULL,
	    OCSP_NOCERTS | OCSP_NOTIME) == 1)
		resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL,
		    bs);
done:
	OCSP_BASICRESP_free(bs);
	OCSP_CERTID_free(id);
	return resp;
}

/* ---- child: answering ------------------------------------------------ */

static int
rsp_send(const struct rsp_conf *cf, int fd, const char *code,
    const char *ctype, const void *body, size_t len)
{
	char	 head[RSP_HEAD_MAX];
	time_t	 deadline = time(NULL) + RSP_IO_DEADLINE;
	int	 n;

	n = snprintf(head, sizeof(head), "HTTP/1.0 %s\r\n"
	    "Content-Type: %s\r\nContent-Length: %zu\r\n"
	    "Connection: close\r\n\r\n", code, ctype, len);
	if (n < 0 || (size_t)n >= sizeof(head))
		return -1;
	if (rsp_send_all(cf, fd, head, (size_t)n, deadline) == -1)
		return -1;
	return rsp_send_all(cf, fd, body, len, deadline);
}

static void
rsp_send_text(const struct rsp_conf *cf, int fd, const char *code,
    const char *text)
{
	(void)rsp_send(cf, fd, code, RSP_CT_TEXT, text, strlen(text));
}

static void
rsp_send_resp(const struct rsp_conf *cf, int fd, const char *ctype,
    OCSP_RESPONSE *resp)
{
	unsigned char	*der = NULL;
	int		 len;

	if ((len = i2d_OCSP_RESPONSE(resp, &der)) <= 0) {
		ERR_print_errors_fp(stderr);
		rsp_send_text(cf, fd, RSP_HTTP_500, "error");
		return;
	}
	(void)rsp_send(cf, fd, RSP_HTTP_200, ctype, der, (size_t)len);
	OPENSSL_free(der);
}

/* Unsuccessful responses are just the bare status: 30 03 0A 01 0N. */
static void
rsp_send_status(const struct rsp_conf *cf, int fd, int status)
{
	OCSP_RESPONSE	*resp;

	if ((resp = OCSP_response_create(status, NULL)) == NULL) {
		ERR_print_errors_fp(stderr);
		rsp_send_text(cf, fd, RSP_HTTP_500, "error");
		return;
	}
	rsp_send_resp(cf, fd, RSP_CT_OCSP, resp);
	OCSP_RESPONSE_free(resp);
}

static int
rsp_status_arg(const struct rsp_sel *sel)
{
	if (sel->has_arg && sel->arg >= 0 && sel->arg <= RSP_STATUS_MAX)
		return (int)sel->arg;
	fprintf(stderr, RSP_NAME ": status needs an argument 0..%d, "
	    "using internalError\n", RSP_STATUS_MAX);
	return OCSP_RESPONSE_STATUS_INTERNALERROR;
}

static void
rsp_send_ocsp(const struct rsp_conf *cf, int fd, const struct rsp_req *rq,
    enum rsp_id id)
{
	struct rsp_spec	 spec;
	OCSP_RESPONSE	*resp;

	if (rq->ocsp == NULL || OCSP_request_onereq_count(rq->ocsp) < 1) {
		fprintf(stderr, RSP_NAME ": unparsable OCSP request\n");
		rsp_send_status(cf, fd, OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
		return;
	}
	/* Time taken here, after any "slow" delay, like a real responder. */
	rsp_spec_init(cf, id, time(NULL), &spec);
	if ((resp = rsp_build(cf, rq->ocsp, &spec)) == NULL) {
		ERR_print_errors_fp(stderr);
		rsp_send_status(cf, fd, OCSP_RESPONSE_STATUS_INTERNALERROR);
		return;
	}
	rsp_send_resp(cf, fd, id == RSP_M_WRONGTYPE ? RSP_CT_HTML :
	    id == RSP_M_TYPEPARAMS ? RSP_CT_OCSP_PARAMS : RSP_CT_OCSP, resp);
	OCSP_RESPONSE_free(resp);
}

/* Keep writing zeros until done or the client gives up and closes. */
static void
rsp_send_oversize(const struct rsp_conf *cf, int fd)
{
	static const char	 zero[RSP_CHUNK];
	char			 head[RSP_HEAD_MAX];
	time_t			 deadline = time(NULL) + RSP_IO_DEADLINE;
	size_t			 sent;
	int			 n;

	n = snprintf(head, sizeof(head), "HTTP/1.0 " RSP_HTTP_200 "\r\n"
	    "Content-Type: " RSP_CT_OCSP "\r\nContent-Length: %d\r\n"
	    "Connection: close\r\n\r\n", RSP_OVERSIZE_LEN);
	if (n < 0 || (size_t)n >= sizeof(head) ||
	    rsp_send_all(cf, fd, head, (size_t)n, deadline) == -1)
		return;
	for (sent = 0; sent < RSP_OVERSIZE_LEN; sent += sizeof(zero))
		if (rsp_send_all(cf, fd, zero, sizeof(zero), deadline) == -1)
			return;
}

static long
rsp_arg_or(const struct rsp_sel *sel, long dflt)
{
	return sel->has_arg && sel->arg >= 0 ? sel->arg : dflt;
}

static void
rsp_answer(const struct rsp_conf *cf, int fd, const struct rsp_req *rq,
    const struct rsp_sel *sel)
{
	switch (sel->id) {
	case RSP_M_STATUS:
		rsp_send_status(cf, fd, rsp_status_arg(sel));
		break;
	case RSP_M_BADMODE:
		rsp_send_status(cf, fd, OCSP_RESPONSE_STATUS_INTERNALERROR);
		break;
	case RSP_M_HTTP404:
		rsp_send_text(cf, fd, RSP_HTTP_404, "not found");
		break;
	case RSP_M_HTTP500:
		rsp_send_text(cf, fd, RSP_HTTP_500, "error");
		break;
	case RSP_M_GARBAGE:
		(void)rsp_send(cf, fd, RSP_HTTP_200, RSP_CT_OCSP, RSP_GARBAGE,
		    RSP_STRLEN(RSP_GARBAGE));
		break;
	case RSP_M_EMPTY:
		(void)rsp_send(cf, fd, RSP_HTTP_200, RSP_CT_OCSP, "", 0);
		break;
	case RSP_M_HTML:	/* a proxy's or a portal's page */
		(void)rsp_send(cf, fd, RSP_HTTP_200, RSP_CT_HTML,
		    RSP_HTML_PAGE, RSP_STRLEN(RSP_HTML_PAGE));
		break;
	case RSP_M_CLOSE:	/* closed before any answer */
		break;
	case RSP_M_GET400:	/* a responder that takes POST only */
		if (strcmp(rq->method, "GET") == 0)
			rsp_send_text(cf, fd, RSP_HTTP_400, "bad request\n");
		else
			rsp_send_ocsp(cf, fd, rq, RSP_M_GOOD);
		break;
	case RSP_M_GETHTML:	/* GET caught by a portal's page */
		if (strcmp(rq->method, "GET") == 0)
			(void)rsp_send(cf, fd, RSP_HTTP_200, RSP_CT_HTML,
			    RSP_HTML_PAGE, RSP_STRLEN(RSP_HTML_PAGE));
		else
			rsp_send_ocsp(cf, fd, rq, RSP_M_GOOD);
		break;
	case RSP_M_OVERSIZE:
		rsp_send_oversize(cf, fd);
		break;
	case RSP_M_HANG:
		(void)rsp_sleep(cf, rsp_arg_or(sel, RSP_SLEEP_MAX));
		break;
	case RSP_M_SLOW:
		if (rsp_sleep(cf, rsp_arg_or(sel, RSP_SLOW_DEFAULT)) == 0)
			rsp_send_ocsp(cf, fd, rq, RSP_M_GOOD);
		break;
	default:
		rsp_send_ocsp(cf, fd, rq, sel->id);
		break;
	}
}

static void
rsp_serve(const struct rsp_conf *cf, int fd)
{
	struct rsp_req	 rq;
	struct rsp_sel	 sel;
	int		 rc;

	memset(&rq, 0, sizeof(rq));
	/* Short timeouts turn blocking I/O into a parent-checking poll. */
	tool_sock_timeouts(fd, RSP_POLL_SEC);
	if ((rc = rsp_read_request(cf, fd, &rq)) == RSP_OK) {
		rsp_read_mode(cf->modefile, &sel);
		rsp_log(cf, rq.method, sel.word);
		rsp_answer(cf, fd, &rq, &sel);
	} else if (rc == RSP_EBAD) {
		fprintf(stderr, RSP_NAME ": bad HTTP request\n");
		rsp_send_text(cf, fd, RSP_HTTP_400, "bad request\n");
	}
	rsp_req_free(&rq);
	/* Half-close so the client sees EOF after everything we sent. */
	shutdown(fd, SHUT_WR);
	close(fd);
}

/* ---- parent ---------------------------------------------------------- */

/* One connection on lfd, answered by a child of its own. */
static void
rsp_accept_one(struct rsp_conf *cf, const struct pollfd *lfds, int nfds,
    int lfd)
{
	pid_t	 pid;
	int	 fd, k;

	if ((fd = accept(lfd, NULL, NULL)) == -1) {
		if (errno != EINTR && errno != ECONNABORTED &&
		    errno != EAGAIN)
			fprintf(stderr, RSP_NAME ": accept: %s\n",
			    strerror(errno));
		return;
	}
	if ((pid = fork()) == -1) {
		fprintf(stderr, RSP_NAME ": fork: %s\n", strerror(errno));
	} else if (pid == 0) {
		for (k = 0; k < nfds; k++)
			close(lfds[k].fd);
		rsp_serve(cf, fd);
		_exit(0);
	}
	close(fd);
}

static void __attribute__((noreturn))
rsp_accept_loop(struct rsp_conf *cf, struct pollfd *lfds, int nfds)
{
	int	 k;

	for (;;) {
		if (poll(lfds, (nfds_t)nfds, -1) == -1) {
			if (errno != EINTR)
				tool_die("poll", strerror(errno));
			continue;
		}
		for (k = 0; k < nfds; k++)
			if (lfds[k].revents & POLLIN)
				rsp_accept_one(cf, lfds, nfds, lfds[k].fd);
	}
}

int
main(int argc, char *argv[])
{
	struct rsp_conf	 cf;
	struct pollfd	 lfds[RSP_PORTS_MAX];
	int		 k;

	memset(&cf, 0, sizeof(cf));
	rsp_parse_args(argc, argv, &cf);
	rsp_signals();
	/* Non-blocking, so that a connection gone between poll() and
	 * accept() does not stall the others (on Linux an accepted socket
	 * does not inherit the flag). */
	for (k = 0; k < cf.nports; k++) {
		lfds[k].fd = rsp_listen(cf.ports[k]);
		lfds[k].events = POLLIN;
		if (fcntl(lfds[k].fd, F_SETFL, O_NONBLOCK) == -1)
			tool_die("O_NONBLOCK", strerror(errno));
	}
	cf.parent = getpid();

	printf("READY");
	for (k = 0; k < cf.nports; k++)
		printf(" %d", cf.ports[k]);
	printf("\n");
	fflush(stdout);
	rsp_accept_loop(&cf, lfds, cf.nports);
}
