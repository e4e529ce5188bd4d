#!/bin/sh
# scripts/fuzz.sh [SECONDS]: build the libFuzzer targets of tests/fuzz
# with clang (ASan + UBSan) into build-fuzz/, replay the saved crash
# inputs of tests/fuzz/regress/<target>/, then fuzz each target for
# SECONDS (default 30; 0 = build and replay only) starting from a copy of
# its seed corpus tests/fuzz/corpus/<target>/, so runs add no files to
# the tree. Prints one result line per target; exits 1 if any target
# crashed, leaked or failed to build.
#
# Environment: FUZZ_CC (default clang), FUZZ_BUILD (default build-fuzz),
# FUZZ_TARGETS (default: all), FUZZ_ARGS (extra libFuzzer flags).
set -u

secs=${1:-30}
case $secs in
''|*[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;;
esac

cd "$(dirname "$0")/.." || exit 2
CC=${FUZZ_CC:-clang}
OUT=${FUZZ_BUILD:-build-fuzz}
TARGETS=${FUZZ_TARGETS:-fuzz_filter fuzz_path fuzz_resource fuzz_patch \
fuzz_config}

# The project flags minus HARDEN: clang 14 refuses
# -ftrivial-auto-var-init=zero without its "enable" flag, and FORTIFY
# gets in the way of the sanitizers. -Werror only for our own files.
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all"
WARN="-Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes \
-Wmissing-prototypes -Wpointer-arith -Wcast-qual"
PKG_CFLAGS=$(pkg-config --cflags jansson libsodium) || exit 2
PKG_LIBS=$(pkg-config --libs jansson libsodium) || exit 2
CFLAGS="-std=c17 -D_GNU_SOURCE -O1 -g -fno-omit-frame-pointer $WARN \
-Iinclude $PKG_CFLAGS $SAN"
SRCS="src/util/errors.c src/util/buf.c src/util/log.c src/util/strutil.c
src/scim/schema.c src/scim/filter.c src/scim/resource.c src/scim/patch.c
src/scim/value.c src/scim/error.c src/config/config.c"

if ! command -v "$CC" >/dev/null 2>&1; then
	echo "fuzz: $CC not found (apt-get install clang)" >&2
	exit 2
fi

# Rebuild an object when it is missing or older than its source or any
# header; the compile is cheap, stale objects are not.
objs=""
# CFLAGS, objs and PKG_LIBS are word lists: split on purpose
# shellcheck disable=SC2086
for src in $SRCS; do
	obj=$OUT/${src%.c}.o
	objs="$objs $obj"
	if [ -f "$obj" ] &&
	    [ -z "$(find "$src" include -newer "$obj" -name '*.[ch]')" ]; then
		continue
	fi
	mkdir -p "$(dirname "$obj")"
	$CC $CFLAGS -fsanitize=fuzzer-no-link -c -o "$obj" "$src" || exit 1
done

# libFuzzer dictionaries: tokens the parsers look for.
dicts=$OUT/dict
mkdir -p "$dicts"
cat > "$dicts/filter.dict" <<'EOF'
"eq"
"ne"
"co"
"sw"
"ew"
"gt"
"ge"
"lt"
"le"
"pr"
"and"
"or"
"not"
" "
"("
")"
"["
"]"
"."
"\""
"\\u"
"true"
"false"
"null"
"userName"
"name.givenName"
"emails"
"emails.value"
"type"
"value"
"primary"
"display"
"members"
"displayName"
"active"
"meta.lastModified"
"meta.created"
"meta.resourceType"
"externalId"
"id"
"addresses"
"postalCode"
"x509Certificates"
"groups"
"urn:ietf:params:scim:schemas:core:2.0:User:"
"urn:ietf:params:scim:schemas:core:2.0:Group:"
"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:"
"urn:ietf:params:scim:schemas:extension:pam:2.0:User:"
"manager.value"
"maxJitDurationSeconds"
"accessReviewDate"
"adminRoles"
"privileged"
"2011-05-13T04:42:34Z"
"1e308"
"-0.5"
EOF
cp "$dicts/filter.dict" "$dicts/path.dict"
cat "$dicts/filter.dict" > "$dicts/json.dict"
cat >> "$dicts/json.dict" <<'EOF'
"{"
"}"
":"
","
"\"schemas\":"
"\"Operations\":"
"\"op\":"
"\"path\":"
"\"value\":"
"\"add\""
"\"remove\""
"\"replace\""
"\"Replace\""
"\"True\""
"\"False\""
"urn:ietf:params:scim:api:messages:2.0:PatchOp"
"urn:ietf:params:scim:schemas:core:2.0:User"
"urn:ietf:params:scim:schemas:core:2.0:Group"
"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
"urn:ietf:params:scim:schemas:extension:pam:2.0:User"
"2819c223-7f76-453a-919d-413861904646"
"\"$ref\":"
"\"password\":"
"\"meta\":"
"\"id\":"
EOF
cat > "$dicts/config.dict" <<'EOF'
" = "
"\x0a"
"#"
"\""
"\x00"
"http.listen"
"http.port"
"http.tls_cert"
"http.tls_key"
"http.allow_plain"
"http.body_max"
"http.conn_timeout"
"http.max_conns"
"http.drain_timeout"
"http.base_url"
"db.dsn"
"db.pool_size"
"db.connect_timeout"
"db.acquire_timeout_ms"
"db.statement_timeout_ms"
"log.level"
"auth.cache_ttl_ms"
"VAULTBRIDGE_"
"VAULTBRIDGE_HTTP_PORT="
"VAULTBRIDGE_HTTP_BASE_URL="
"VAULTBRIDGE_DB_DSN="
"VAULTBRIDGE_LOG_LEVEL="
"https://"
"http://"
"::1"
"::ffff:127.0.0.1"
"0.0.0.0"
"true"
"off"
"debug"
"18446744073709551616"
EOF

# target -> dictionary and -max_len
dict_of() {
	case $1 in
	fuzz_filter) echo filter ;;
	fuzz_path) echo path ;;
	fuzz_config) echo config ;;
	*) echo json ;;
	esac
}
maxlen_of() {
	case $1 in
	fuzz_filter|fuzz_path) echo 5000 ;;
	fuzz_config) echo 8192 ;;
	*) echo 16384 ;;
	esac
}

fail=0
# shellcheck disable=SC2086
for t in $TARGETS; do
	bin=$OUT/$t
	if ! $CC $CFLAGS -Werror -fsanitize=fuzzer -o "$bin" \
	    "tests/fuzz/$t.c" $objs $PKG_LIBS -lm; then
		echo "$t: BUILD FAILED"
		fail=1
		continue
	fi
	log=$OUT/$t.log
	: > "$log"

	# saved crash inputs must not crash any more
	reg=tests/fuzz/regress/$t
	nreg=0
	rfail=""
	if [ -d "$reg" ]; then
		for f in "$reg"/*; do
			[ -f "$f" ] || continue
			nreg=$((nreg + 1))
			if ! "$bin" -runs=1 "$f" >> "$log" 2>&1; then
				rfail="$rfail ${f##*/}"
			fi
		done
	fi
	if [ -n "$rfail" ]; then
		echo "$t: REGRESS FAIL:$rfail (see $log)"
		fail=1
	fi
	if [ "$secs" -eq 0 ]; then
		echo "$t: built, $nreg regress inputs"
		continue
	fi

	work=$(mktemp -d "${TMPDIR:-/tmp}/vb-$t.XXXXXX") || exit 2
	cp tests/fuzz/corpus/"$t"/* "$work"/ 2>/dev/null
	art=$OUT/artifacts/$t
	mkdir -p "$art"
	# -close_fd_mask=1: silence stdout of the code under test
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	    -max_len="$(maxlen_of "$t")" -dict="$dicts/$(dict_of "$t").dict" \
	    -artifact_prefix="$art/" -print_final_stats=1 -close_fd_mask=1 \
	    ${FUZZ_ARGS:-} "$work" >> "$log" 2>&1
	rc=$?
	ncorp=$(find "$work" -type f | wc -l)
	rm -rf "$work"
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" |
	    tail -n 1)
	eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" |
	    tail -n 1)
	cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -n 1)
	if [ $rc -ne 0 ]; then
		crash=$(sed -n 's/.*Test unit written to //p' "$log" |
		    tail -n 1)
		echo "$t: CRASH after ${runs:-?} runs: ${crash:-?} (see $log)"
		fail=1
	else
		echo "$t: ok, ${runs:-?} runs, ${eps:-?} exec/s, $cov," \
		    "corpus $ncorp, $nreg regress inputs"
	fi
done
exit $fail
