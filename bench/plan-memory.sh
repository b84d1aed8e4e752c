#!/bin/sh
# Benchmark: peak memory and CPU time of the whole `cip plan --inventory` process on the generated
# Kubernetes-scale set (tests/gen: 100 thin manifests, 45,000 digests x 20 destinations, about
# 933,580 edges) against the `plan` benchmark's inventory (every source digest present, 1% of the
# (digest, destination) pairs missing; a 132 MB JSON file), printing a table. Each figure is the
# median of RUNS runs (default 3) measured by `/usr/bin/time -v` (Debian package `time`): peak
# RSS of the process, CPU time (user + system), wall time. Target: peak RSS < 200 MiB.
#
#   bench/plan-memory.sh [OTHER_CIP...]
#
# OTHER_CIP: more cip binaries to measure side by side (for example one built from an older
# commit: `git archive REV | tar -x -C /tmp/old && cargo build --release -p cip
# --manifest-path /tmp/old/Cargo.toml`); each must print the same bytes as this tree's cip.
# The input is written once to target/plan-memory/ (PLAN_MEMORY_DIR to change; CARGO_TARGET_DIR
# is honoured).
set -eu
cd "$(dirname "$0")/.."
runs=${RUNS:-3}
target=${CARGO_TARGET_DIR:-$PWD/target}
dir=${PLAN_MEMORY_DIR:-$target/plan-memory}
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
cargo build --release -p cip --bin cip
if [ ! -f "$dir/inventory.json" ]; then
    cargo run --release -p cip-core --example plan-input -- "$dir"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# median FILE: the middle value of the numbers in FILE, one a line.
median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
rows=""
n=0
for cip in "$target/release/cip" "$@"; do
    n=$((n + 1))
    for format in json human; do
        : > "$tmp/rss"; : > "$tmp/cpu"; : > "$tmp/wall"
        i=0
        while [ "$i" -lt "$runs" ]; do
            i=$((i + 1))
            status=0
            /usr/bin/time -v "$cip" plan --format "$format" --inventory "$dir/inventory.json" "$dir/set" \
                > "$tmp/out.$n.$format" 2> "$tmp/time" || status=$?
            # Exit 0: nothing blocked and no error finding in this set; anything else is a failure.
            if [ "$status" -ne 0 ]; then
                echo "$cip plan --format $format exited with $status:" >&2
                tail -n 30 "$tmp/time" >&2
                exit 1
            fi
            awk -F': ' '
                /Maximum resident set size/ { print $2 > "'"$tmp/rss"'" }
                /User time/ { user = $2 } /System time/ { sys = $2 }
                /Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (k = 1; k <= n; k++) s = s * 60 + p[k]; wall = s }
                END { printf "%d\n", (user + sys) * 1000 + 0.5 >> "'"$tmp/cpu"'"; printf "%d\n", wall * 1000 + 0.5 >> "'"$tmp/wall"'" }
            ' "$tmp/time"
        done
        same="yes"
        if [ "$n" -gt 1 ] && ! cmp -s "$tmp/out.1.$format" "$tmp/out.$n.$format"; then same="NO"; fi
        rss=$(median "$tmp/rss")
        rows="$rows$(printf '| %s | %s | %.1f MiB | %s ms | %s ms | %s | %s |' "$cip" "$format" \
            "$(echo "$rss" | awk '{ print $1 / 1024 }')" "$(median "$tmp/cpu")" "$(median "$tmp/wall")" \
            "$(wc -c < "$tmp/out.$n.$format" | tr -d ' ')" "$same")
"
    done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

summary=$(awk '/"summary"/ { on = 1 } on && /"(copy|tag|present|blocked)"/ { gsub(/[",]/, ""); printf "%s%s %s", sep, $1, $2; sep = ", " } ' "$tmp/out.1.json")
echo
echo "cip plan --inventory $dir/inventory.json $dir/set ($summary)"
echo "median of $runs runs; $(nproc) cores, load average $load_before before, $load_after after"
echo
echo "| cip | format | peak RSS | CPU (user + sys) | wall | output bytes | same output as the first |"
echo "|---|---|---|---|---|---|---|"
printf '%s' "$rows"
echo
echo "target: peak RSS < 200 MiB for the whole process"
