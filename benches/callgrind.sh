#!/usr/bin/env bash
# Instructions per request, counted by callgrind, for the cases named: a
# Markdown table with a row per scenario and a column per contender, in
# the order they are first named.
#
#   benches/callgrind.sh {untouched,read,write,write_3k,new}/{ours,handle,bare,primitives}
#
# Unlike times, the counts do not depend on the machine's load, so they
# can be compared across runs and commits. Each case runs the `profile`
# bench binary under `valgrind --tool=callgrind`, counting only inside
# `profile::requests` (REQUESTS requests, 20000 unless set), and divides
# the total by the number of requests. The binary is built with
# `cargo bench --features sealed --bench profile --no-run`, so that the
# `sealed` contender is there too (FEATURES names other features, or
# none: `FEATURES= benches/callgrind.sh ...`), unless PROFILE_BIN names
# one.
set -euo pipefail

if [ "$#" -eq 0 ]; then
    echo "usage: $0 SCENARIO/CONTENDER..." >&2
    exit 2
fi
requests=${REQUESTS:-20000}
cd "$(dirname "$0")/.."

binary=${PROFILE_BIN:-}
if [ -z "$binary" ]; then
    features=${FEATURES-sealed}
    build=$(cargo bench ${features:+--features "$features"} --bench profile --no-run 2>&1) || {
        echo "$build" >&2
        exit 1
    }
    binary=$(echo "$build" | sed -n 's/^ *Executable .*(\(.*\))$/\1/p' | tail -n 1)
    if [ -z "$binary" ]; then
        echo "$build" >&2
        echo "$0: cargo named no profile binary" >&2
        exit 1
    fi
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

declare -a scenarios=() contenders=()
declare -A cells=()
add_once() { # add_once ARRAY VALUE
    local -n list=$1
    local item
    for item in "${list[@]}"; do
        [ "$item" = "$2" ] && return
    done
    list+=("$2")
}
# 1234567.8 -> 1,234,568
grouped() {
    awk -v n="$1" 'BEGIN {
        s = sprintf("%.0f", n)
        while (s ~ /[0-9][0-9][0-9][0-9]/) sub(/[0-9][0-9][0-9]($|,)/, ",&", s)
        print s
    }'
}

for case in "$@"; do
    scenario=${case%%/*}
    contender=${case#*/}
    add_once scenarios "$scenario"
    add_once contenders "$contender"
    file="$out/${scenario}.${contender}.out"
    said=$(valgrind --quiet --tool=callgrind --toggle-collect='profile::requests' \
        --callgrind-out-file="$file" "$binary" "$case" "$requests")
    case $said in
    *"has no"*)
        cells[$case]="-"
        ;;
    *"name a case"*)
        echo "$0: no such case: $case" >&2
        exit 1
        ;;
    *)
        total=$(sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$file")
        if [ -z "$total" ] || [ "$total" -eq 0 ]; then
            echo "$0: $case: callgrind counted nothing in profile::requests" >&2
            exit 1
        fi
        cells[$case]=$(grouped "$(awk -v t="$total" -v n="$requests" 'BEGIN { print t / n }')")
        ;;
    esac
    echo "$case: ${cells[$case]}" >&2
done

echo "Instructions per request (callgrind, $requests requests a case):"
echo
header="| scenario |"
rule="|---|"
for contender in "${contenders[@]}"; do
    header+=" $contender |"
    rule+="---:|"
done
echo "$header"
echo "$rule"
for scenario in "${scenarios[@]}"; do
    row="| $scenario |"
    for contender in "${contenders[@]}"; do
        row+=" ${cells[$scenario/$contender]:-} |"
    done
    echo "$row"
done
