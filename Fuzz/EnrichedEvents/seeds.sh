#!/bin/sh
# Seeds for EnrichedEvents: the events of the audit.log files named on standard input, one seed
# each, as main.swift reads them: a line of type letters, then one record body per line (the text
# after `msg=audit(…): `, ENRICHED translations included). Usage: seeds.sh DIR < file-list
set -eu
dir=$1
n=0
while IFS= read -r file; do
    n=$((n + 1))
    LC_ALL=C awk -v dir="$dir" -v n="$n" '
        match($0, /msg=audit\([0-9.:]+\): /) {
            id = substr($0, RSTART + 10, RLENGTH - 13)
            body = substr($0, RSTART + RLENGTH)
            type = $0
            sub(/^node=[^ ]* /, "", type); sub(/^type=/, "", type); sub(/ .*/, "", type)
            letter = "?"
            if (type == "SYSCALL") letter = "S"; else if (type == "EXECVE") letter = "E"
            else if (type == "PATH") letter = "P"; else if (type == "PROCTITLE") letter = "T"
            else if (type == "SOCKADDR") letter = "A"; else if (type == "CWD") letter = "C"
            else if (type == "USER") letter = "U"; else if (type == "LOGIN") letter = "L"
            else if (type == "EOE") letter = "Z"
            if (!(id in letters)) { order[++count] = id; letters[id] = ""; bodies[id] = "" }
            letters[id] = letters[id] letter
            bodies[id] = bodies[id] "\n" body
        }
        END {
            for (i = 1; i <= count; i++) {
                id = order[i]
                printf "%s%s", letters[id], bodies[id] > (dir "/" n "-" i)
                close(dir "/" n "-" i)
            }
        }' "$file"
done
