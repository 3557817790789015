#!/bin/sh
# Instructions per event of the processing path (reassembly + encoding + the file output), per event
# format, counted by valgrind's callgrind: deterministic, unlike seconds on a shared VM.
#
#   Benchmarks/callgrind.sh BINARY [CAPTURE]
#
# BINARY is a release build of swift-audit (stripped here: valgrind 3.19 cannot read Swift's
# DWARF). Replaying the capture once and COPIES times, the difference divided by the extra events
# leaves out start-up and the fixed costs. EXTRA adds configuration lines (EXTRA='process_context = no').
# Prints one line per format (FORMATS, default raw enriched
# ecs): instructions per event.
set -eu
binary=$1
capture=${2:-../shared/corpus/local/exec.unicast.bin}
copies=${COPIES:-40}
work=$(mktemp -d /tmp/swift-audit-callgrind-XXXXXX)
trap 'rm -rf "$work"' EXIT
strip -o "$work/swift-audit" "$binary"
i=0
many=""
while [ "$i" -lt "$copies" ]; do many="$many $capture"; i=$((i + 1)); done

count() {  # count FORMAT CAPTURES… -> total instructions
    format=$1
    shift
    printf '%s\noutput.main.type = file\noutput.main.path = %s/out.json\noutput.main.format = %s\n' \
        "${EXTRA:-}" "$work" "$format" \
        > "$work/c.conf"
    chmod 600 "$work/c.conf"
    rm -f "$work/out.json"
    valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" "$work/swift-audit" replay --config "$work/c.conf" \
        "$@" > /dev/null 2> "$work/valgrind.txt"
    events=$(wc -l < "$work/out.json")
    instructions=$(sed -n 's/^summary: //p' "$work/cg.out")
    echo "$instructions $events"
}

for format in ${FORMATS:-raw enriched ecs}; do
    set -- $(count "$format" "$capture")
    one=$1
    events_one=$2
    # shellcheck disable=SC2086
    set -- $(count "$format" $many)
    extra=$(( $2 - events_one ))
    echo "$format: $(( ($1 - one) / extra )) instructions per event ($extra events, $(basename "$capture") x$copies)"
done
