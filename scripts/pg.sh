#!/bin/sh
# A private PostgreSQL cluster in a directory, reached over a Unix socket
# only (tests, quickstart, bench).
#
#   scripts/pg.sh start DIR    initdb if needed, start, create database
#                              "vaultbridge", print the libpq DSN
#   scripts/pg.sh stop DIR     fast shutdown (fine if not running)
#   scripts/pg.sh dsn DIR      print the DSN
#   scripts/pg.sh status DIR   print running|stopped; exit 0 if running
#
# Layout: DIR/data (cluster), DIR/run (socket), DIR/pg.log (server log).
# PostgreSQL refuses to run as root: as root, the server runs as user
# "postgres" if it exists, else as a system user "vaultbridge" (created).
set -eu

prog=pg.sh
dbname=vaultbridge
superuser=vaultbridge

die() {
	echo "$prog: $*" >&2
	exit 1
}

usage() {
	echo "usage: $prog start|stop|dsn|status DIR" >&2
	exit 2
}

find_bindir() {
	if [ -n "${PG_BINDIR:-}" ] && [ -x "$PG_BINDIR/pg_ctl" ]; then
		echo "$PG_BINDIR"
		return
	fi
	if command -v pg_config >/dev/null 2>&1; then
		d=$(pg_config --bindir 2>/dev/null || true)
		if [ -n "$d" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/initdb" ]; then
			echo "$d"
			return
		fi
	fi
	for d in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin \
	    /usr/local/pgsql/bin; do
		if [ -x "$d/pg_ctl" ] && [ -x "$d/initdb" ]; then
			echo "$d"
			return
		fi
	done
	die "cannot find initdb/pg_ctl (install postgresql-15 or set PG_BINDIR)"
}

# The user the server runs as; empty when we are not root.
pick_user() {
	if [ "$(id -u)" -ne 0 ]; then
		echo ""
		return
	fi
	if id -u postgres >/dev/null 2>&1; then
		echo postgres
		return
	fi
	if ! id -u vaultbridge >/dev/null 2>&1; then
		useradd --system --no-create-home --shell /usr/sbin/nologin \
		    vaultbridge >/dev/null 2>&1 ||
		    die "cannot create system user vaultbridge"
	fi
	echo vaultbridge
}

# Run a command as the server user (or as ourselves when not root).
as_user() {
	if [ -z "$runas" ]; then
		"$@"
	elif command -v runuser >/dev/null 2>&1; then
		runuser -u "$runas" -- "$@"
	else
		setpriv --reuid="$runas" --regid="$runas" --init-groups -- "$@"
	fi
}

# Every parent of DIR must let the server user through; name the topmost
# one that does not.
check_parents() {
	p=""
	rest=${dir#/}
	while [ -n "$rest" ]; do
		case $rest in
		*/*) p=$p/${rest%%/*}; rest=${rest#*/} ;;
		*) break ;;
		esac
		if ! as_user test -x "$p"; then
			die "user $runas cannot enter $p (a parent of $dir);" \
			    "use a directory under a traversable path such as /tmp," \
			    "or make $p searchable (chmod o+x)"
		fi
	done
}

is_running() {
	[ -f "$data/PG_VERSION" ] &&
	    as_user "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1
}

print_dsn() {
	echo "host=$run dbname=$dbname user=$superuser"
}

do_initdb() {
	locale=C
	if locale -a 2>/dev/null | grep -qi '^c\.utf-\{0,1\}8$'; then
		locale=C.UTF-8
	fi
	rm -rf "$data"
	mkdir -p "$data"
	[ -z "$runas" ] || chown "$runas" "$data"
	chmod 0700 "$data"
	as_user "$bindir/initdb" -D "$data" -E UTF8 --locale="$locale" \
	    -U "$superuser" --auth-local=trust --auth-host=reject \
	    >"$dir/initdb.log" 2>&1 ||
	    die "initdb failed, see $dir/initdb.log"
	# Unix socket only, in DIR/run; later settings win over initdb's.
	cat >>"$data/postgresql.conf" <<EOF

# added by scripts/pg.sh
listen_addresses = ''
unix_socket_directories = '$run'
unix_socket_permissions = 0777
max_connections = 200
shared_buffers = 128MB
logging_collector = off
log_min_messages = warning
EOF
}

cmd_start() {
	mkdir -p "$dir" "$run"
	if [ -n "$runas" ]; then
		chown "$runas" "$dir" "$run"
		[ ! -d "$data" ] || chown -R "$runas" "$data"
		[ ! -f "$dir/pg.log" ] || chown "$runas" "$dir/pg.log"
		check_parents
	fi
	if is_running; then
		print_dsn
		return
	fi
	if [ ! -f "$data/PG_VERSION" ]; then
		do_initdb
	fi
	as_user "$bindir/pg_ctl" -D "$data" -l "$dir/pg.log" -w -t 60 \
	    start >/dev/null 2>&1 || {
		tail -n 20 "$dir/pg.log" >&2 2>/dev/null || true
		die "pg_ctl start failed, see $dir/pg.log"
	}
	exists=$("$bindir/psql" -X -q -h "$run" -U "$superuser" -d postgres \
	    -tAc "SELECT 1 FROM pg_database WHERE datname = '$dbname'") ||
	    die "cannot query the new cluster"
	if [ "$exists" != 1 ]; then
		"$bindir/psql" -X -q -h "$run" -U "$superuser" -d postgres \
		    -c "CREATE DATABASE $dbname" >/dev/null ||
		    die "cannot create database $dbname"
	fi
	print_dsn
}

cmd_stop() {
	if is_running; then
		as_user "$bindir/pg_ctl" -D "$data" -m fast -w -t 60 stop \
		    >/dev/null 2>&1 || die "pg_ctl stop failed"
	fi
}

cmd_status() {
	if is_running; then
		echo running
	else
		echo stopped
		exit 1
	fi
}

[ $# -eq 2 ] || usage
action=$1
case $2 in
/*) dir=$2 ;;
*) dir=$(pwd)/$2 ;;
esac
# strip trailing slashes so the DSN and the socket path are stable
while [ "${dir%/}" != "$dir" ] && [ "$dir" != / ]; do
	dir=${dir%/}
done
case $dir in
*[!A-Za-z0-9_./-]*) die "directory name must be plain (letters, digits, . _ - /): $dir" ;;
esac
data=$dir/data
run=$dir/run
# sun_path holds 107 bytes: DIR/run/.s.PGSQL.5432
[ ${#run} -le 90 ] || die "directory path too long for a Unix socket: $dir"

case $action in
dsn)
	print_dsn
	exit 0
	;;
start|stop|status) ;;
*) usage ;;
esac
bindir=$(find_bindir)
runas=$(pick_user)
case $action in
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
esac
