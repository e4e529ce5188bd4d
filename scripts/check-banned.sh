#!/bin/sh
# Fail when a banned C function is called in src/, include/ or tests/
# (cf. curl's checksrc banned list; STYLE.md). Use snprintf, buf_printf,
# memcpy with explicit sizes, strtok_r-free parsing and parse_u64 instead.
# strtoll/strtoull are allowed only inside src/util/strutil.c,
# which wraps number parsing for everyone else.
set -u
cd "$(dirname "$0")/.." || exit 1

banned='sprintf|vsprintf|strcpy|strcat|strncpy|strncat|strtok|atoi|atol|atoll|strtol|gets'
numeric='strtoll|strtoull'

# Comment lines (" * ..." or "/* ...") are skipped: mentioning a name in
# prose is fine, calling it is not.
scan() {
	grep -rnE --include='*.c' --include='*.h' "\\b($1)[[:space:]]*\\(" \
	    src include tests 2>/dev/null |
	    grep -vE '^[^:]+:[0-9]+:[[:space:]]*(\*|/\*)'
}

bad=$(scan "$banned")
num=$(scan "$numeric" | grep -v '^src/util/strutil\.c:')
status=0
if [ -n "$bad" ]; then
	echo "check-banned: banned functions called:" >&2
	echo "$bad" >&2
	status=1
fi
if [ -n "$num" ]; then
	echo "check-banned: use parse_u64 (strutil.h), not strto*:" >&2
	echo "$num" >&2
	status=1
fi
[ "$status" -eq 0 ] && echo "check-banned: ok"
exit "$status"
