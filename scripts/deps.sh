#!/bin/sh
# Install the Debian 12 packages vaultbridge needs to build, test and run,
# if any is missing. Runs at the start of every `make check`, so the
# common case (all present) is one dpkg-query call and no network.
#
# As root: apt-get update + install. As another user: the same through
# sudo when it works without a password, else print the command and
# exit 1.
set -eu

pkgs="build-essential pkg-config libmicrohttpd-dev libsodium-dev
libjansson-dev libpq-dev libcurl4-openssl-dev libjwt-dev libssl-dev
postgresql-15 postgresql-client-15 curl wrk openssl"

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "deps.sh: no dpkg-query (not Debian?); install the equivalents" \
	    "of: $(echo "$pkgs" | tr '\n' ' ')" >&2
	exit 0
fi

# "name install ok installed" for each package dpkg knows; unknown
# names only go to stderr.
# shellcheck disable=SC2086
installed=" $(dpkg-query -W -f='${Package} ${Status}\n' $pkgs 2>/dev/null |
    awk '$NF == "installed" && $(NF-1) == "ok" { printf "%s ", $1 }') " ||
    true

missing=""
for p in $pkgs; do
	case $installed in
	*" $p "*) ;;
	*) missing="$missing $p" ;;
	esac
done
missing=${missing# }
[ -n "$missing" ] || exit 0

echo "deps.sh: missing packages: $missing" >&2
if [ "$(id -u)" -eq 0 ]; then
	sudo=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
	sudo="sudo"
else
	echo "deps.sh: run as root:" >&2
	echo "  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get" \
	    "install -y --no-install-recommends $missing"
	exit 1
fi
# shellcheck disable=SC2086
$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q
# shellcheck disable=SC2086
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    --no-install-recommends $missing
