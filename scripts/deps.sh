#!/bin/sh
# deps.sh: install what building, testing and the demo need (Debian 12).
# Runs apt-get only for packages that are missing, so it is quick to repeat.
set -eu
PKGS="make gcc pkg-config apache2 apache2-dev apache2-ssl-dev libssl-dev
      openssl libcmocka-dev curl perl valgrind iproute2 util-linux
      prometheus squid chromium redis-server memcached
      debhelper dpkg-dev fakeroot lintian
      clang libclang-rt-14-dev"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" \
        || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # Start no service while installing: not Debian's own apache2 on port
    # 80, not prometheus (only its promtool is wanted, for the tests), not
    # squid (t/18-proxy.t runs its own on loopback), not redis-server nor
    # memcached (t/33-shared-cache.t runs its own). chromium renders the
    # status page in t/27-status-page.t. debhelper, dpkg-dev, fakeroot and
    # lintian build and check the package (make deb; apache2-dev provides
    # dh-apache2). clang builds the fuzz harnesses (make fuzz); its
    # libFuzzer and sanitizer runtimes come in libclang-rt-14-dev, which
    # Debian 12's clang does not pull in by itself.
    policy=/usr/sbin/policy-rc.d
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' > "$policy"
        chmod +x "$policy"
        trap 'rm -f "$policy"' EXIT
    fi
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
