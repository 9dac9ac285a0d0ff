#!/bin/sh
# deps.sh: install what building, testing and the demo need, on Debian 12
# (bookworm) or 13 (trixie); anything else is said plainly (exit 2).
# Runs apt-get only for packages that are missing, so it is quick to repeat.
#   sh scripts/deps.sh                   install what is missing here
#   sh scripts/deps.sh --list [RELEASE]  print the package names, one a
#                                        line (scripts/test-on.sh)
set -eu

# The names both releases share (every one checked on both archives).
# Only the clang runtime differs: its name carries clang's version.
COMMON="make gcc pkg-config apache2 apache2-dev apache2-ssl-dev libssl-dev
      openssl libcmocka-dev curl perl valgrind iproute2 util-linux
      prometheus squid chromium redis-server memcached
      build-essential debhelper dpkg-dev fakeroot lintian
      clang"

# The release's packages, by codename: prints them, or fails (exit 2).
release_pkgs() {
    case "$1" in
    bookworm) rt=libclang-rt-14-dev ;;	# Debian 12: clang 14
    trixie) rt=libclang-rt-19-dev ;;	# Debian 13: clang 19
    *) return 2 ;;
    esac
    # shellcheck disable=SC2086
    printf '%s\n' $COMMON $rt
}

unsupported() {
    echo "deps.sh: $1 is not a system this project knows how to set up;" \
        "it is built and tested on Debian 12 (bookworm) and Debian 13" \
        "(trixie). Elsewhere, install its build tools by hand (README.md," \
        "\"Platforms\")." >&2
    exit 2
}

if [ "${1:-}" = "--list" ]; then
    release_pkgs "${2:-}" || unsupported "release '${2:-}'"
    exit 0
fi

ID="" VERSION_CODENAME="" PRETTY_NAME=""
# shellcheck disable=SC1091
[ -r /etc/os-release ] && . /etc/os-release
[ "$ID" = debian ] || unsupported "${PRETTY_NAME:-this system (no /etc/os-release)}"
PKGS=$(release_pkgs "$VERSION_CODENAME") || unsupported "$PRETTY_NAME"

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
    # status page in t/27-status-page.t. build-essential (which
    # dpkg-buildpackage checks for), debhelper, dpkg-dev, fakeroot and
    # lintian build and check the package (make deb; apache2-dev provides
    # dh-apache2). clang builds the fuzz harnesses (make fuzz); its
    # libFuzzer and sanitizer runtimes come in libclang-rt-NN-dev, which
    # Debian's clang does not pull in by itself.
    policy=/usr/sbin/policy-rc.d
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' > "$policy"
        chmod +x "$policy"
        trap 'rm -f "$policy"' EXIT
    fi
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
