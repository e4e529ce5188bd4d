#!/bin/sh
# One command from a checkout to a running vaultbridge on Debian 12:
# packages, build, a private PostgreSQL cluster in var/pg, the schema, the
# lifecycle policy in policy/ (validated), an admin token with every scope
# (var/admin.token, mode 0600) and the server on 127.0.0.1:${VB_PORT:-8080}.
#
#   scripts/quickstart.sh            serve in the foreground (Ctrl-C stops)
#   scripts/quickstart.sh --detach   serve in the background, return once
#                                    /readyz answers 200
#   scripts/quickstart.sh --stop     stop the server and the cluster
#
# stdout carries only the two "export VAULTBRIDGE_..." lines, so
#   eval "$(scripts/quickstart.sh --detach)"
# works; progress goes to stderr. Running it again reuses var/ (data,
# config and the admin token while that is still active).
set -eu

cd "$(dirname "$0")/.."
root=$(pwd)
var=$root/var
conf=$var/vaultbridge.conf
tokfile=$var/admin.token
pidfile=$var/vaultbridge.pid
logfile=$var/vaultbridge.log
bin=$root/vaultbridge
token_name=quickstart-admin
ready_wait=30	# seconds --detach waits for /readyz

say() {
	echo "quickstart: $*" >&2
}

die() {
	say "$*"
	exit 1
}

usage() {
	echo "usage: scripts/quickstart.sh [--detach|--stop]" >&2
	exit 2
}

# pid from the pid file if that process is our server, else empty
server_pid() {
	[ -f "$pidfile" ] || return 0
	p=$(cat "$pidfile" 2>/dev/null || true)
	case $p in
	''|*[!0-9]*) return 0 ;;
	esac
	if kill -0 "$p" 2>/dev/null &&
	    [ "$(cat "/proc/$p/comm" 2>/dev/null || true)" = vaultbridge ]; then
		echo "$p"
	fi
}

vb() {
	"$bin" --config "$conf" "$@"
}

do_stop() {
	p=$(server_pid)
	if [ -n "$p" ]; then
		say "stopping server pid $p"
		kill -TERM "$p" 2>/dev/null || true
		# drain timeout (10 s by default) plus a margin
		i=0
		while kill -0 "$p" 2>/dev/null && [ "$i" -lt 150 ]; do
			sleep 0.2
			i=$((i + 1))
		done
		if kill -0 "$p" 2>/dev/null; then
			say "server pid $p did not stop; sending SIGKILL"
			kill -KILL "$p" 2>/dev/null || true
		fi
	fi
	rm -f "$pidfile"
	if [ -d "$var/pg" ]; then
		say "stopping PostgreSQL in var/pg"
		sh scripts/pg.sh stop "$var/pg" >&2
	fi
	say "stopped"
}

# The effective listen address and port (file + environment).
effective() {
	vb --dump-config | sed -n "s/^$1 = \"\{0,1\}\([^\"]*\)\"\{0,1\}\$/\1/p"
}

print_exports() {
	listen=$(effective http.listen)
	port=$(effective http.port)
	case $listen in
	*:*) host="[$listen]" ;;
	*) host=$listen ;;
	esac
	echo "export VAULTBRIDGE_ADDR=http://$host:$port"
	echo "export VAULTBRIDGE_TOKEN=$(cat "$tokfile")"
}

# 0 when var/admin.token holds a token that `token list` shows active.
token_valid() {
	[ -s "$tokfile" ] || return 1
	t=$(cat "$tokfile")
	case $t in
	vbt_*_*) ;;
	*) return 1 ;;
	esac
	id=${t#vbt_}
	id=${id%%_*}
	vb token list 2>/dev/null | awk -v id="$id" \
	    '$1 == id && $NF == "active" { found = 1 } END { exit !found }'
}

ensure_token() {
	if token_valid; then
		say "reusing the admin token in var/admin.token"
		return
	fi
	# the file is lost or stale: retire a leftover token of that name
	vb token revoke "$token_name" >/dev/null 2>&1 || true
	say "creating an admin token with every scope (var/admin.token)"
	rm -f "$tokfile.tmp"
	(umask 077 && vb token create --name "$token_name" --scopes all \
	    >"$tokfile.tmp") || {
		rm -f "$tokfile.tmp"
		die "token create failed"
	}
	chmod 0600 "$tokfile.tmp"
	mv -f "$tokfile.tmp" "$tokfile"
}

mode=foreground
case $# in
0) ;;
1)
	case $1 in
	--detach) mode=detach ;;
	--stop) mode=stop ;;
	-h|--help) usage ;;
	*) usage ;;
	esac
	;;
*) usage ;;
esac

if [ "$mode" = stop ]; then
	do_stop
	exit 0
fi

say "checking packages"
sh scripts/deps.sh >&2 || die "missing packages (see above)"
say "building"
make -s >&2 || die "build failed"

mkdir -p "$var"
say "starting PostgreSQL in var/pg"
dsn=$(sh scripts/pg.sh start "$var/pg") || die "cannot start PostgreSQL"
[ -n "$dsn" ] || die "pg.sh printed no DSN"

if [ ! -f "$conf" ]; then
	say "writing var/vaultbridge.conf"
	(umask 077 && cat >"$conf.tmp" <<EOF
# written by scripts/quickstart.sh; see config/vaultbridge.conf.example
http.listen = "127.0.0.1"
http.port = ${VB_PORT:-8080}
db.dsn = "$dsn"
log.level = info
EOF
	)
	mv -f "$conf.tmp" "$conf"
fi
# VB_PORT also applies to an existing config (the environment wins)
if [ -n "${VB_PORT:-}" ]; then
	VAULTBRIDGE_HTTP_PORT=$VB_PORT
	export VAULTBRIDGE_HTTP_PORT
fi
# The embedded vault: its own database on the same cluster, and a master
# key (var/master.key, 0600) that never goes into the config or a
# database. A config from an older quickstart gets the lines appended.
vdsn=$(echo "$dsn" | sed 's/dbname=vaultbridge/dbname=vaultbridge_vault/')
if [ "$(psql "$dsn" -XAtq -c "SELECT count(*) FROM pg_database WHERE datname = 'vaultbridge_vault'")" != 1 ]; then
	say "creating the vault database (vaultbridge_vault)"
	psql "$dsn" -XAtq -c "CREATE DATABASE vaultbridge_vault" >&2 ||
	    die "cannot create the vault database"
fi
if [ ! -f "$var/master.key" ]; then
	say "generating the vault master key (var/master.key, mode 0600)"
	vb key generate "$var/master.key" >&2 || die "key generate failed"
fi
if ! grep -q '^vault.master_key' "$conf"; then
	cat >>"$conf" <<EOF
vault.dsn = "$vdsn"
vault.master_key = "$var/master.key"
EOF
fi
vb --check-config >/dev/null || die "bad var/vaultbridge.conf"

say "migrating the schema"
vb migrate >&2 || die "migrate failed"
# serve refuses a policy that does not validate: say so before starting it
say "checking the lifecycle policy (policy.dir, default policy/)"
vb policy check >&2 || die "the policy does not validate (see above;" \
    "README.md, section Policy)"
ensure_token

running=$(server_pid)
if [ -n "$running" ]; then
	if [ "$mode" = detach ]; then
		say "server already running (pid $running)"
		print_exports
		exit 0
	fi
	die "a detached server is running (pid $running); run" \
	    "scripts/quickstart.sh --stop first"
fi

if [ "$mode" = foreground ]; then
	print_exports
	say "serving in the foreground; Ctrl-C stops (PostgreSQL keeps" \
	    "running: scripts/quickstart.sh --stop)"
	exec "$bin" --config "$conf" serve
fi

say "starting the server in the background (log: var/vaultbridge.log)"
nohup "$bin" --config "$conf" serve >>"$logfile" 2>&1 </dev/null &
pid=$!
echo "$pid" >"$pidfile"
listen=$(effective http.listen)
port=$(effective http.port)
case $listen in
*:*) url="http://[$listen]:$port/readyz" ;;
*) url="http://$listen:$port/readyz" ;;
esac
i=0
while :; do
	if ! kill -0 "$pid" 2>/dev/null; then
		rm -f "$pidfile"
		tail -n 20 "$logfile" >&2 || true
		die "the server exited; see var/vaultbridge.log"
	fi
	code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$url" || true)
	[ "$code" = 200 ] && break
	i=$((i + 1))
	if [ "$i" -ge $((ready_wait * 2)) ]; then
		tail -n 20 "$logfile" >&2 || true
		die "/readyz did not answer 200 within ${ready_wait}s" \
		    "(server pid $pid still running; --stop stops it)"
	fi
	sleep 0.5
done
say "ready (pid $pid)"
print_exports
