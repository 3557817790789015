#!/bin/sh
# Seeds for AuditLogLines: the files named on standard input cut into runs of 8 lines, each behind
# a 0 control byte (the data in one chunk; see main.swift). Usage: seeds.sh DIR < file-list
set -eu
dir=$1
n=0
while IFS= read -r file; do
    n=$((n + 1))
    split -l 8 -a 5 "$file" "$dir/$n-"
done
for seed in "$dir"/*; do
    { printf '\000'; cat "$seed"; } > "$seed.seed" && rm "$seed"
done
