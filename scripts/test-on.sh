#!/bin/sh
# test-on.sh: the README's test command on another Debian release, in a
# throw-away root made with Debian's mmdebstrap (as root):
#
#   sh scripts/test-on.sh trixie|bookworm [t/NN-name.t ...]
#
# With no test named, the whole suite (`sh scripts/test.sh`); with some,
# `sh scripts/test.sh` builds only what they need and proves those. The
# root gets /proc, /sys, /dev (with /dev/pts and a fresh /dev/shm), a
# tmpfs /tmp and /run, and a copy of the checkout (git's files, or the
# tree without build/) in /root/mod_staple_guard: root's home is 0700, as
# on a real machine, so no test may count on others reaching the checkout.
# Everything is mounted in a mount namespace of this script's own, so no
# mount outlives it; the root is removed at the end, also on failure. The
# last line is the suite's own "Result: ..." line; the exit code is the
# suite's.
#
# The root is made from a tarball kept in SG_TEST_ON_CACHE (default
# /var/cache/staple-guard/test-on, outside any checkout) holding the base
# system and what scripts/deps.sh lists for that release, made again when
# that list changes or after SG_TEST_ON_CACHE_DAYS (7) days;
# SG_TEST_ON_CACHE=none makes a fresh root each time, with nothing but
# the base system (scripts/deps.sh then installs the rest, as for a new
# user). The mirror is the one mmdebstrap uses by default.
set -eu

usage() {
    echo "usage: sh scripts/test-on.sh trixie|bookworm [t/NN-name.t ...]" >&2
    exit 2
}
[ $# -ge 1 ] || usage
release=$1
shift
case "$release" in trixie|bookworm) ;; *) usage ;; esac
[ "$(id -u)" = 0 ] || { echo "test-on.sh: needs root (mmdebstrap, mounts, chroot)" >&2; exit 2; }
cd "$(dirname "$0")/.."

# Mounts made in a private mount namespace go with its last process.
if [ -z "${SG_TEST_ON_NS:-}" ]; then
    SG_TEST_ON_NS=1 exec unshare -m --propagation private -- sh "$0" "$release" "$@"
fi

top=$(pwd)
cache=${SG_TEST_ON_CACHE:-/var/cache/staple-guard/test-on}
days=${SG_TEST_ON_CACHE_DAYS:-7}
work=$(mktemp -d "${TMPDIR:-/var/tmp}/sg-test-on-$release.XXXXXX")
root=$work/root
src=/root/mod_staple_guard

say() { echo "test-on.sh: $*" >&2; }

# Processes still running in the root (a test's leftovers) hold its
# mounts: end them by PID, then unmount, then remove the root, never
# crossing into a file system still mounted there.
cleanup() {
    rc=$?
    trap - EXIT INT TERM HUP
    for p in /proc/[0-9]*; do
        [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] \
            && kill -KILL "${p#/proc/}" 2>/dev/null
    done
    umount -R "$root" 2>/dev/null || umount -R -l "$root" 2>/dev/null || :
    if grep -q " $root[ /]" /proc/self/mounts; then
        say "still mounted under $root: left in place"
    else
        rm -rf --one-file-system "$work"
    fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

if ! command -v mmdebstrap >/dev/null 2>&1; then
    say "installing mmdebstrap"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap >/dev/null \
        || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
             apt-get install -y -qq mmdebstrap >/dev/null; }
fi

pkgs=$(sh scripts/deps.sh --list "$release" | paste -sd, -)
mkdir "$root"
t0=$(date +%s)
if [ "$cache" = none ]; then
    say "making a fresh $release root in $root"
    mmdebstrap --quiet --variant=apt "$release" "$root"
else
    key=$(printf '%s\n' "$release" "$pkgs" | sha256sum | cut -c1-16)
    tarball=$cache/$release-$key.tar
    mkdir -p "$cache"
    if [ -z "$(find "$tarball" -mtime "-$days" 2>/dev/null)" ]; then
        say "making the $release root tarball $tarball"
        # mmdebstrap writes a tarball when the name ends in .tar
        rm -f "$cache/$release"-*.tar "$cache/new-$release"-*.tar
        mmdebstrap --quiet --variant=apt --include="$pkgs" "$release" \
            "$cache/new-$release-$key.tar"
        mv "$cache/new-$release-$key.tar" "$tarball"
    fi
    tar -C "$root" -xf "$tarball"
fi
say "$release root ready in $(($(date +%s) - t0)) s"

# The root as a mount point of its own: `unshare -m` inside (t/19, the
# tests' namespaces) makes "/" private, which needs "/" to be one.
mount --bind "$root" "$root"
mount -t proc proc "$root/proc"
mount --bind /sys "$root/sys"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"
mount -t tmpfs -o mode=1777 shm "$root/dev/shm"
mount -t tmpfs -o mode=1777 tmp "$root/tmp"
mount -t tmpfs -o mode=0755 run "$root/run"
mkdir -p "$root/run/lock"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' \
    > "$root/etc/hosts"
cp /etc/resolv.conf "$root/etc/resolv.conf"

# The checkout: what git tracks (and new files not ignored), or the tree
# without build/ where there is no git.
mkdir -p "$root$src"
chmod 0700 "$root/root"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files -z -c -o --exclude-standard \
        | tar --null -T - -cf - | tar -C "$root$src" -xf -
else
    tar -cf - --exclude=./build --exclude=./.git . | tar -C "$root$src" -xf -
fi

say "running sh scripts/test.sh${*:+ $*} on $release"
set +e
chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    SG_TEST_ON="$release" ${CI:+CI="$CI"} \
    sh -c 'cd "$1" && shift && exec sh scripts/test.sh "$@"' sh "$src" "$@" \
    </dev/null
rc=$?
set -e
exit $rc
