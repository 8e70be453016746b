#!/bin/sh
# Install the Debian packages the build, tests and demo need, when missing.
# Runs apt-get only if something is missing; needs root for that.
# With arguments, installs those packages instead (make bench-deps).
set -e
PKGS="$*"
[ -n "$PKGS" ] || PKGS="apache2 apache2-dev apache2-utils libcmocka-dev curl python3 python3-pytest gcc make valgrind php-fpm prometheus chromium clang libclang-rt-14-dev wrk strace golang-go"
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
