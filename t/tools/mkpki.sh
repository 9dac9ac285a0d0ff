#!/bin/sh
# mkpki.sh DIR OCSP_URL: a throw-away test PKI, as a CA would run it.
#
#   root.crt          self-signed root
#   inter.crt         intermediate CA (signs everything below; `openssl ca`
#                     keeps index.txt, which `openssl ocsp -index` reads)
#   leaf.crt          localhost, OCSP URL = OCSP_URL; leaf-chain.pem = leaf+inter
#   ms.crt            the same, Must-Staple (TLS Feature status_request)
#   noocsp.crt        no OCSP URL at all
#   twourls.crt       two OCSP URLs: a dead one (port 9, refused), then
#                     OCSP_URL
#   revoked.crt       localhost, revoked in index.txt
#   xss.crt           localhost, subject CN=<script>...: for escaping tests
#   ocsp.crt          delegated responder: issued by inter, OCSPSigning
#   ocsp-noeku.crt    issued by inter, without OCSPSigning
#   ocsp-expired.crt  issued by inter, OCSPSigning, expired in 2020
#   other.crt         an unrelated CA; ocsp-foreign.crt: OCSPSigning from it
# Every key is EC P-256: quick to make, like many real deployments.
set -eu
dir=$1
url=$2
mkdir -p "$dir"
cd "$dir"
mkdir -p newcerts
: > index.txt
echo 1000 > serial
echo "unique_subject = no" > index.txt.attr

# What every certificate for the test server says, whatever else it says.
server_ext="basicConstraints = CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,DNS:must-staple.localhost,DNS:no-ocsp.localhost,DNS:revoked.localhost,IP:127.0.0.1"

cat > ca.cnf <<CNF
[ ca ]
default_ca = inter
[ inter ]
dir = .
database = ./index.txt
new_certs_dir = ./newcerts
serial = ./serial
certificate = ./inter.crt
private_key = ./inter.key
default_md = sha256
default_days = 30
policy = any
copy_extensions = none
unique_subject = no
[ any ]
commonName = supplied
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ ca_ext ]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ leaf_ext ]
$server_ext
authorityInfoAccess = OCSP;URI:$url
[ ms_ext ]
$server_ext
authorityInfoAccess = OCSP;URI:$url
tlsfeature = status_request
[ noocsp_ext ]
$server_ext
[ twourls_ext ]
$server_ext
authorityInfoAccess = OCSP;URI:http://127.0.0.1:9/dead,OCSP;URI:$url
[ ocsp_ext ]
basicConstraints = CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = OCSPSigning
noCheck = ignored
[ noeku_ext ]
basicConstraints = CA:false
keyUsage = critical,digitalSignature
CNF

key() { openssl ecparam -name prime256v1 -genkey -noout -out "$1.key" 2>/dev/null; }
csr() { openssl req -new -config ca.cnf -key "$1.key" -subj "$2" -out "$1.csr"; }
issue() {   # name subject ext [extra ca args]
    n=$1 subj=$2 ext=$3
    shift 3
    key "$n"
    csr "$n" "$subj"
    openssl ca -batch -config ca.cnf -extensions "$ext" -in "$n.csr" \
        -out "$n.crt" -notext "$@" 2>/dev/null
}

key root
openssl req -new -x509 -config ca.cnf -key root.key -subj "/CN=SG Test Root" \
    -days 30 -extensions ca_ext -out root.crt
key inter
csr inter "/CN=SG Test Intermediate"
openssl x509 -req -in inter.csr -CA root.crt -CAkey root.key -set_serial 2 \
    -days 30 -extfile ca.cnf -extensions ca_ext -out inter.crt 2>/dev/null

issue leaf "/CN=localhost" leaf_ext
issue ms "/CN=must-staple.localhost" ms_ext
issue noocsp "/CN=no-ocsp.localhost" noocsp_ext
issue twourls "/CN=two-urls.localhost" twourls_ext
issue revoked "/CN=revoked.localhost" leaf_ext
# A subject a hostile applicant could get: the status page must escape it.
issue xss '/CN=<script>alert("sg")<\/script>&' leaf_ext
issue ocsp "/CN=SG Test OCSP Responder" ocsp_ext
issue ocsp-noeku "/CN=SG Test Responder Without EKU" noeku_ext
issue ocsp-expired "/CN=SG Test Expired Responder" ocsp_ext \
    -startdate 20200101000000Z -enddate 20200201000000Z
openssl ca -batch -config ca.cnf -revoke revoked.crt \
    -crl_reason keyCompromise 2>/dev/null

key other
openssl req -new -x509 -config ca.cnf -key other.key -subj "/CN=SG Other CA" \
    -days 30 -extensions ca_ext -out other.crt
key ocsp-foreign
csr ocsp-foreign "/CN=SG Foreign Responder"
openssl x509 -req -in ocsp-foreign.csr -CA other.crt -CAkey other.key \
    -set_serial 7 -days 30 -extfile ca.cnf -extensions ocsp_ext \
    -out ocsp-foreign.crt 2>/dev/null

for n in leaf ms noocsp revoked xss twourls; do
    cat "$n.crt" inter.crt > "$n-chain.pem"
done
cat inter.crt root.crt > ca-chain.pem
chmod 0644 ./*.key ./*.crt ./*.pem
rm -f ./*.csr
