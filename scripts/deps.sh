#!/bin/sh
# Install the Debian packages a target needs, when missing (apt-get runs
# only if something is missing; that needs root).
#
#   sh scripts/deps.sh test     the build, unit, fuzz and integration tests
#   sh scripts/deps.sh demo     make demo: the build, a server, curl, python3
#   sh scripts/deps.sh bench    make bench: the test list plus the peer's
#   sh scripts/deps.sh perf     make bench-perf
#   sh scripts/deps.sh deb      make deb
#   sh scripts/deps.sh PKG...   those packages
set -e
BUILD="apache2 apache2-dev libcmocka-dev gcc make"
DEMO="$BUILD curl python3"
TEST="$BUILD apache2-utils curl python3 python3-pytest valgrind php-fpm prometheus chromium clang libclang-rt-14-dev wrk strace dpkg-dev debhelper fakeroot golang-go"
case "${1:-test}" in
    test)  PKGS="$TEST" ;;
    demo)  PKGS="$DEMO" ;;
    bench) PKGS="$TEST python3-flask gunicorn" ;;
    perf)  PKGS="linux-perf" ;;
    deb)   PKGS="$BUILD dpkg-dev debhelper fakeroot git" ;;
    *)     PKGS="$*" ;;
esac
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing:$missing"
if [ "$(id -u)" != 0 ]; then
    echo "deps: missing packages:$missing - run as root or install them" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends $missing
# Debian's postinst may start the system apache2; the tests use private
# instances on their own ports and do not need it.
