#!/bin/sh
# demo.sh: build the module and run a self-contained demo on loopback: its
# own test PKI, `openssl ocsp` as the CA's responder, and httpd with
# mod_ssl and mod_staple_guard; then a stapled handshake, the status page,
# and the staple surviving a graceful restart with the responder down.
set -eu
cd "$(dirname "$0")/.."
sh scripts/deps.sh
make -s all tools
exec perl -It/lib scripts/demo.pl
