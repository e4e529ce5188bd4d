#!/bin/sh
# Run unit and/or integration test binaries and add up their
# "N passed, N failed" lines. Usage: tests/run.sh all|unit|integration BUILD
# The last line printed is the total, "N passed, N failed".
set -u
what=${1:-all}
build=${2:-build}
total_pass=0
total_fail=0
log_dir="$build/test-logs"
mkdir -p "$log_dir"

run_one() {
	bin=$1
	name=$(basename "$bin")
	out="$log_dir/$name.log"
	start=$(date +%s)
	"$bin" > "$out" 2>&1
	rc=$?
	end=$(date +%s)
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -n 1)
	if [ -z "$line" ]; then
		echo "FAIL $name: no result line (exit $rc); last lines:"
		tail -n 20 "$out" | sed 's/^/    /'
		total_fail=$((total_fail + 1))
		return
	fi
	p=${line%% passed*}
	f=${line#*passed, }
	f=${f%% failed*}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		line="$line (but exit $rc)"
	fi
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	echo "$name: $line ($((end - start))s)"
	if [ "$f" -ne 0 ]; then
		grep -E '^(not ok|  FAIL)' "$out" | head -n 40 | sed 's/^/    /'
	fi
}

if [ "$what" = all ] || [ "$what" = unit ]; then
	for b in "$build"/tests/test_*; do
		[ -x "$b" ] && run_one "$b"
	done
fi
if [ "$what" = all ] || [ "$what" = integration ]; then
	for b in "$build"/tests/it_*; do
		[ -x "$b" ] && run_one "$b"
	done
fi
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
