#!/bin/sh
# make bench: the SCIM server under load, against a private PostgreSQL
# holding 100,000 users and 10,000 groups, with wrk at 1 and 32
# connections, next to pgbench's ceiling for the same insert.
# Environment: BENCH_SECONDS (default 10), BENCH_USERS (100000),
# BENCH_GROUPS (10000), VB_BINARY (./vaultbridge), BENCH_AUTH_CACHE_MS
# (unset: none; else a second pass of the filtered GET with
# auth.cache_ttl_ms set to it, e.g. 0 for the token looked up in the
# database at every request; the main pass runs with the default). The last column is the 1-minute load
# average before each scenario: the machine is shared by wrk, the daemon
# and PostgreSQL, and figures taken under other load are not comparable.
# Then propagation (issue #3): PATCHes on groups that are safes at 32
# connections, and for every job the time from its insert (in the SCIM
# transaction, before the 2xx) to its application in the embedded vault
# (vault.applied_op.applied_at), p50/p99, and jobs applied per second.
# BENCH_SAFES (200) groups are made safes for that. BENCH_SCIM=0 skips the
# SCIM scenarios and pgbench (propagation only); BENCH_KEEP=1 keeps the
# temporary directory with the logs.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
secs=${BENCH_SECONDS:-10}
users=${BENCH_USERS:-100000}
groups=${BENCH_GROUPS:-10000}
safes=${BENCH_SAFES:-200}
bin=${VB_BINARY:-$root/vaultbridge}

command -v wrk >/dev/null || { echo "bench: wrk is missing (scripts/deps.sh)"; exit 1; }
command -v pgbench >/dev/null || PATH="$PATH:/usr/lib/postgresql/15/bin"

dir=$(mktemp -d /tmp/vb-bench.XXXXXX)
chmod 0755 "$dir"
pid=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	sh scripts/pg.sh stop "$dir/pg" >/dev/null 2>&1 || true
	if [ -n "${BENCH_KEEP:-}" ]; then
		echo "bench: kept $dir (daemon log vb.log, PostgreSQL log pg/pg.log)"
	else
		rm -rf "$dir"
	fi
}
trap cleanup EXIT INT TERM

dsn=$(sh scripts/pg.sh start "$dir/pg")
psql_() { psql "$dsn" -XAtq -v ON_ERROR_STOP=1 "$@"; }
# the embedded vault's own database on the same cluster, and a master key
vdsn=$(echo "$dsn" | sed 's/dbname=vaultbridge/dbname=vaultbridge_vault/')
psql_ -c "CREATE DATABASE vaultbridge_vault"
vpsql_() { psql "$vdsn" -XAtq -v ON_ERROR_STOP=1 "$@"; }
(umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' > "$dir/master.key")
port=$((20000 + $$ % 20000))
write_conf() {
	cat > "$dir/vb.conf" <<CONF
http.listen = 127.0.0.1
http.port = $port
db.dsn = "$dsn"
db.pool_size = 32
http.max_conns = 512
log.level = warn
${1:+auth.cache_ttl_ms = $1}
vault.dsn = "$vdsn"
vault.master_key = "$dir/master.key"
policy.dir = "$root/policy"
CONF
}
write_conf ""
"$bin" --config "$dir/vb.conf" migrate >/dev/null
token=$("$bin" --config "$dir/vb.conf" token create --name bench --scopes all | head -n 1)

echo "bench: seeding $users users and $groups groups..."
psql_ -v users="$users" -v groups="$groups" -f scripts/bench/seed.sql
psql_ -c "SELECT id FROM scim_group" > "$dir/group_ids"
psql_ -c "SELECT id FROM scim_user ORDER BY random() LIMIT 20000" > "$dir/user_ids"

start_daemon() {
	"$bin" --config "$dir/vb.conf" serve 2>> "$dir/vb.log" &
	pid=$!
	i=0
	until curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; do
		i=$((i + 1))
		[ "$i" -gt 100 ] && { echo "bench: server did not start"; cat "$dir/vb.log"; exit 1; }
		sleep 0.1
	done
}
start_daemon

export VB_TOKEN="$token" VB_BENCH_DIR="$root/scripts/bench" VB_USERS="$users"
export VB_GROUP_IDS="$dir/group_ids" VB_USER_IDS="$dir/user_ids"
url="http://127.0.0.1:$port"

# The pool opens its connections on first use: without a warm-up the
# first scenario at 32 clients would measure 31 PostgreSQL backends
# starting at once (p99 near a second), not the steady state. A short
# read-only pass opens them; its figures are not reported.
warmup() {
	wrk -t 2 -c 32 -d 2s --timeout 5s -s scripts/bench/get_filter.lua \
	    "$url" >/dev/null
}
load1() { cut -d ' ' -f 1 /proc/loadavg; }
warmup
printf '\n%-28s %8s %10s %10s %10s %8s %6s\n' scenario clients req/s p50_ms p99_ms errors load1
run() {
	name=$1 script=$2 conns=$3
	threads=2
	[ "$conns" -eq 1 ] && threads=1
	load=$(load1)
	line=$(wrk -t "$threads" -c "$conns" -d "${secs}s" --timeout 5s \
	    -s "scripts/bench/$script" "$url" | grep '^RESULT')
	rps=$(echo "$line" | sed 's/.*rps=\([^ ]*\).*/\1/')
	p50=$(echo "$line" | sed 's/.*p50_ms=\([^ ]*\).*/\1/')
	p99=$(echo "$line" | sed 's/.*p99_ms=\([^ ]*\).*/\1/')
	errs=$(echo "$line" | sed 's/.*errors=\([^ ]*\).*/\1/')
	printf '%-28s %8s %10s %10s %10s %8s %6s\n' "$name" "$conns" "$rps" "$p50" "$p99" "$errs" "$load"
}
scim=${BENCH_SCIM:-1}
for c in 1 32; do
	[ "$scim" = 1 ] || break
	run "POST /Users" post_user.lua "$c"
	run "GET /Users?filter=userName" get_filter.lua "$c"
	run "GET /Users list page (100)" list_page.lua "$c"
	run "PATCH /Groups add member" patch_member.lua "$c"
done
rss=$(awk '/VmHWM/ {print $2 " " $3}' "/proc/$pid/status")

if [ -n "${BENCH_AUTH_CACHE_MS:-}" ]; then
	kill "$pid" && wait "$pid" 2>/dev/null || true
	write_conf "$BENCH_AUTH_CACHE_MS"
	start_daemon
	warmup
	for c in 1 32; do
		run "GET filter, auth cache ${BENCH_AUTH_CACHE_MS}ms" get_filter.lua "$c"
	done
	# the propagation runs below measure the default configuration
	kill "$pid" && wait "$pid" 2>/dev/null || true
	write_conf ""
	start_daemon
fi
echo
echo "daemon peak RSS (VmHWM): $rss"

# --- propagation to the embedded vault ---
echo
delays=${BENCH_PROP_DELAYS:-0 100 50}
# each run gets its own safes, so its adds are never no-ops left over
# from an earlier run
k=0
for d in $delays; do
	echo "bench: making $safes groups safes (pam-bench-$k-N) through SCIM..."
	i=1
	f="$dir/safe_group_ids.$k"
	: > "$f"
	while [ "$i" -le "$safes" ]; do
		curl -fs -X POST -H "Authorization: Bearer $token" \
		    -H 'Content-Type: application/scim+json' \
		    -d "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"],\"displayName\":\"pam-bench-$k-$i\"}" \
		    "$url/scim/v2/Groups" | sed 's/.*"id":"\([0-9a-f-]*\)".*/\1/' >> "$f"
		echo >> "$f"
		i=$((i + 1))
	done
	sed -i '/^$/d' "$f"
	k=$((k + 1))
done
drain() {
	n=0
	until [ "$(psql_ -c "SELECT count(*) FROM sync_job WHERE state = 'pending'")" = 0 ]; do
		n=$((n + 1))
		[ "$n" -gt 600 ] && { echo "bench: outbox did not drain"; return 1; }
		sleep 0.1
	done
}
drain
psql_ -c "CREATE TABLE bench_ledger (op_id bigint, applied_at timestamptz)"
printf '\n%-28s %8s %10s %8s %12s %12s %10s %6s\n' propagation clients "PATCH/s" jobs "p50_ms" "p99_ms" "applied/s" load1
# one run per per-connection delay: 0 = as fast as the writers go, then
# capped rates (32 connections, each waiting that many ms between PATCHes)
k=0
for d in $delays; do
	export VB_SAFE_GROUP_IDS="$dir/safe_group_ids.$k"
	k=$((k + 1))
	drain
	mark=$(psql_ -c "SELECT coalesce(max(id), 0) FROM sync_job")
	load=$(load1)
	line=$(VB_DELAY_MS=$d wrk -t 2 -c 32 -d "${secs}s" --timeout 5s \
	    -s scripts/bench/patch_safe.lua "$url" | grep '^RESULT')
	drain
	psql_ -c "TRUNCATE bench_ledger"
	vpsql_ -c "COPY (SELECT op_id, applied_at FROM vault.applied_op WHERE op_id > $mark) TO STDOUT" |
	    psql_ -c "COPY bench_ledger FROM STDIN"
	prop=$(psql_ -F ' ' -c "SELECT count(*),
		round((percentile_cont(0.5) WITHIN GROUP (ORDER BY ms))::numeric, 1),
		round((percentile_cont(0.99) WITHIN GROUP (ORDER BY ms))::numeric, 1),
		round((count(*) / greatest(extract(epoch FROM max(applied_at) - min(applied_at)), 0.001))::numeric, 0)
		FROM (SELECT extract(epoch FROM l.applied_at - j.created) * 1000 AS ms, l.applied_at
		      FROM sync_job j JOIN bench_ledger l ON l.op_id = j.id WHERE j.id > $mark) x")
	rps=$(echo "$line" | sed 's/.*rps=\([^ ]*\).*/\1/')
	set -- $prop
	if [ "$d" = 0 ]; then label="PATCH -> vault, no cap"; else label="PATCH -> vault, ${d}ms gaps"; fi
	printf '%-28s %8s %10s %8s %12s %12s %10s %6s\n' "$label" 32 "$rps" "$1" "$2" "$3" "$4" "$load"
done
echo "(latency: job insert in the SCIM transaction -> applied in vault.applied_op)"

[ "$scim" = 1 ] || exit 0
psql_ -c "CREATE TABLE bench_user (LIKE scim_user INCLUDING ALL)"
echo
printf '%-28s %8s %10s %10s %6s\n' "pgbench ceiling" clients tps latency_ms load1
for c in 1 32; do
	j=2; [ "$c" -eq 1 ] && j=1
	load=$(load1)
	out=$(pgbench -n -f scripts/bench/pgbench_insert.sql -c "$c" -j "$j" \
	    -T "$secs" "$dsn" 2>/dev/null)
	tps=$(echo "$out" | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -n 1)
	lat=$(echo "$out" | sed -n 's/^latency average = \([0-9.]*\).*/\1/p')
	printf '%-28s %8s %10s %10s %6s\n' "INSERT like POST /Users" "$c" "$tps" "$lat" "$load"
done
