#!/bin/sh
# Fail the build for an undocumented option (cf. PgBouncer optscan.sh):
# every option name in the table in src/config/config.c must appear in
# README.md in backticks (`http.port`) and as a "key = value" line
# (possibly commented out) in config/vaultbridge.conf.example.
set -u
cd "$(dirname "$0")/.." || exit 1

src=src/config/config.c
readme=README.md
example=config/vaultbridge.conf.example

# table rows start with { "area.name",
names=$(sed -n 's/^[[:space:]]*{[[:space:]]*"\([a-z0-9_]*\.[a-z0-9_.]*\)",.*/\1/p' "$src")
if [ -z "$names" ]; then
	echo "optscan: no options found in $src" >&2
	exit 1
fi

status=0
for f in "$readme" "$example"; do
	if [ ! -f "$f" ]; then
		echo "optscan: $f is missing" >&2
		status=1
	fi
done
[ "$status" -eq 0 ] || exit 1

for n in $names; do
	if ! grep -qF "\`$n\`" "$readme"; then
		echo "optscan: $readme does not document \`$n\`" >&2
		status=1
	fi
	re=$(printf '%s' "$n" | sed 's/\./\\./g')
	if ! grep -qE "^#?[[:space:]]*${re}[[:space:]]*=" "$example"; then
		echo "optscan: $example has no \"$n = ...\" line" >&2
		status=1
	fi
done
[ "$status" -eq 0 ] && echo "optscan: $(echo "$names" | wc -l) options documented"
exit "$status"
