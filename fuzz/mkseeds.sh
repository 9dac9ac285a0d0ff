#!/bin/sh
# mkseeds.sh: make the fixed test PKI (fuzz/pki/) and the seed corpora
# (fuzz/seeds/<input>/) from real answers: a CA as t/tools/mkpki.sh runs
# it, and `openssl ocsp` answering offline from its index. Run from the
# top of the tree (make fuzz-seeds); the results are committed, so that a
# run is reproducible (the keys are random: regenerating changes every
# seed). The harnesses validate at the time written to fuzz/pki/now.
set -eu
top=$(pwd)
pki=$top/fuzz/pki
seeds=$top/fuzz/seeds
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
url=http://127.0.0.1:8080/ocsp

sh t/tools/mkpki.sh "$work" "$url" >/dev/null 2>&1
rm -rf "$pki" "$seeds"
mkdir -p "$pki" "$seeds/validate" "$seeds/store" "$seeds/cert" \
    "$seeds/fetch" "$seeds/directive"
cd "$work"
cat leaf.crt inter.crt > "$pki/leaf-chain.pem"
# An hour after the answers are made: every seed is judged in its window.
echo $(( $(date +%s) + 3600 )) > "$pki/now"

# ---- responses (validate) ----
req() {     # out [openssl ocsp options...]: a request without nonce
    out=$1
    shift
    openssl ocsp -issuer inter.crt -no_nonce -reqout "$out" "$@" \
        >/dev/null 2>&1
}
resp() {    # req out signer [options...]: answered from index.txt
    rq=$1 out=$2 signer=$3
    shift 3
    openssl ocsp -index index.txt -CA inter.crt -rsigner "$signer.crt" \
        -rkey "$signer.key" -reqin "$rq" -respout "$seeds/validate/$out" \
        "$@" >/dev/null 2>&1
}
req leaf.req -cert leaf.crt
req multi.req -cert revoked.crt -cert ms.crt -cert leaf.crt
req sha256.req -sha256 -cert leaf.crt
req other.req -cert ms.crt
resp leaf.req good inter -ndays 7
resp leaf.req good-no-next-update inter
resp leaf.req good-no-certs inter -ndays 7 -resp_no_certs
resp leaf.req good-key-id inter -ndays 7 -resp_key_id
resp leaf.req delegated ocsp -ndays 7
resp leaf.req signer-no-eku ocsp-noeku -ndays 7
resp leaf.req signer-expired ocsp-expired -ndays 7
resp leaf.req signer-foreign ocsp-foreign -ndays 7
resp leaf.req signer-other-ca other -ndays 7
resp leaf.req expired inter -nmin 1
resp multi.req multi inter -ndays 7
resp multi.req multi-delegated ocsp -ndays 7
resp sha256.req certid-sha256 inter -ndays 7
resp other.req other-certificate inter -ndays 7
openssl ca -batch -config ca.cnf -revoke leaf.crt -crl_reason keyCompromise \
    >/dev/null 2>&1
resp leaf.req revoked inter -ndays 7
resp leaf.req revoked-delegated ocsp -ndays 7
# Unsuccessful answers: SEQUENCE { ENUMERATED status } (RFC 6960 4.2.1).
for s in 1:malformed 2:internal-error 3:try-later 5:sig-required \
         6:unauthorized; do
    printf "\\060\\003\\012\\001\\00${s%%:*}" > "$seeds/validate/${s#*:}"
done

# ---- store files (store): sg_store.h's format, for the fixed leaf ----
openssl x509 -in leaf.crt -outform DER | openssl dgst -sha256 -binary \
    > leaf.sha256
be32() { printf "\\$(printf %03o $(($1 >> 24 & 255)))\\$(printf %03o \
$(($1 >> 16 & 255)))\\$(printf %03o $(($1 >> 8 & 255)))\\$(printf %03o \
$(($1 & 255)))"; }
store() {   # response out [hash file]
    hash=${3:-leaf.sha256}
    { printf SGS1; cat "$hash"; be32 "$(wc -c < "$1")"; cat "$1"; } > body
    { cat body; openssl dgst -sha256 -binary body; } > "$seeds/store/$2"
}
store "$seeds/validate/good" good
store "$seeds/validate/revoked" revoked
store "$seeds/validate/delegated" delegated
store "$seeds/validate/try-later" try-later
printf 'another certificate.....32 bytes' > other.sha256
store "$seeds/validate/good" foreign other.sha256
s=$seeds/store
head -c 100 "$s/good" > "$s/truncated"
head -c 30 "$s/good" > "$s/truncated-header"
{ printf SGS2; tail -c +5 "$s/good"; } > "$s/bad-magic"
{ head -c 200 "$s/good"; printf X; tail -c +202 "$s/good"; } > "$s/flipped"
{ cat "$s/good"; printf extra; } > "$s/trailing"
{ head -c 36 "$s/good"; printf '\377\377\377\377'; tail -c +41 "$s/good"; } \
    > "$s/huge-length"
: > "$s/empty"

# ---- PEM as mod_ssl hands it over (cert) ----
c=$seeds/cert
cp leaf-chain.pem "$c/leaf-chain"
cp ms-chain.pem "$c/must-staple"
cp noocsp-chain.pem "$c/no-ocsp"
cp twourls-chain.pem "$c/two-urls"
cp xss-chain.pem "$c/xss-subject"
cp leaf.crt "$c/leaf-alone"
cat inter.crt leaf.crt > "$c/issuer-first"
cat leaf.crt root.crt inter.crt > "$c/issuer-last"
cat leaf.key leaf.crt inter.crt > "$c/key-first"
head -c 400 leaf.crt > "$c/cut"
{ cat leaf.crt; sed 's/^M/N/' inter.crt; } > "$c/bad-base64"

# ---- responder answers (fetch): flags byte, then the bytes sent ----
# Flags (fuzz/fuzz_fetch.c): 1 through a proxy, 2 POST.
f=$seeds/fetch
good=$seeds/validate/good
n=$(wc -c < "$good")
hdr() {     # out flags head...: head lines, CRLF-terminated, blank line
    out=$1 flags=$2
    shift 2
    { printf "\\00$flags"; for l in "$@"; do printf '%s\r\n' "$l"; done
      printf '\r\n'; } > "$f/$out"
}
hdr ok 0 "HTTP/1.1 200 OK" "Content-Type: application/ocsp-response" \
    "Content-Length: $n"
cat "$good" >> "$f/ok"
hdr ok-post 2 "HTTP/1.1 200 OK" "Content-Type: application/ocsp-response" \
    "Content-Length: $n" "Connection: close"
cat "$good" >> "$f/ok-post"
hdr ok-charset 0 "HTTP/1.0 200 OK" \
    "content-type: Application/OCSP-Response; charset=binary"
cat "$good" >> "$f/ok-charset"
hdr chunked 0 "HTTP/1.1 200 OK" "Content-Type: application/ocsp-response" \
    "Transfer-Encoding: chunked"
{ printf '%x\r\n' 100; head -c 100 "$good"; printf '\r\n%x\r\n' $((n - 100))
  tail -c +101 "$good"; printf '\r\n0\r\n\r\n'; } >> "$f/chunked"
hdr short-body 0 "HTTP/1.1 200 OK" "Content-Type: application/ocsp-response" \
    "Content-Length: $((n + 50))"
cat "$good" >> "$f/short-body"
hdr wrong-type 0 "HTTP/1.1 200 OK" "Content-Type: text/html" \
    "Content-Length: 20"
printf '<html>oops</html>\n\n\n' >> "$f/wrong-type"
hdr no-type 0 "HTTP/1.1 200 OK" "Content-Length: $n"
cat "$good" >> "$f/no-type"
hdr server-error 0 "HTTP/1.1 500 Internal Server Error" "Content-Length: 0"
hdr redirect 0 "HTTP/1.1 301 Moved" "Location: http://127.0.0.1:9/x"
hdr proxy-auth 1 "HTTP/1.1 407 Proxy Authentication Required" \
    "Proxy-Authenticate: Basic realm=\"sg\"" "Content-Length: 0"
hdr proxy-forbidden 1 "HTTP/1.1 403 Forbidden" "Content-Length: 0"
hdr proxy-upstream 1 "HTTP/1.1 503 Service Unavailable" "Content-Length: 0"
hdr proxy-ok 3 "HTTP/1.1 200 OK" "Via: 1.1 squid" \
    "Content-Type: application/ocsp-response" "Content-Length: $n"
cat "$good" >> "$f/proxy-ok"
printf '\000HTTP/1.1 200 OK\n\nbare newlines' > "$f/lf-only"
printf '\000garbage' > "$f/garbage"
printf '\001' > "$f/nothing"

# ---- directive values (directive): proxy URL, bypass entry, responder
# URL, host, one per line (fuzz/fuzz_directive.c) ----
d=$seeds/directive
printf 'http://sg:pw@proxy.example:3128\n.example.com\n%s\nocsp.example.com\n' \
    "$url" > "$d/credentials"
printf 'http://[::1]:8080/\n::1\nhttp://[::1]:8080/ocsp?a=b\n::1\n' > "$d/ipv6"
printf 'http://proxy:99999\n..\nhttps://r.example/\n\n' > "$d/bad"
printf 'http://%%zz@p:1\nlocalhost\nhttp://r.example:0/%%2f\nLOCALHOST\n' \
    > "$d/escapes"
