#!/bin/sh
# Seeds for FilterConfig: each configuration file named on standard input whole, again with its
# commented `#key = value` lines switched on, its commented filter section alone, and each fenced
# block of the Markdown files named. Usage: seeds.sh DIR < file-list
set -eu
dir=$1
n=0
while IFS= read -r file; do
    n=$((n + 1))
    case "$file" in
    *.md)
        awk -v prefix="$dir/$n-" '
            /^```/ { if (open) { close(name); open = 0 } else { name = prefix (++count); open = 1; printf "" > name }; next }
            open { print > name }' "$file"
        ;;
    *)
        cp "$file" "$dir/$n-whole"
        sed 's/^#\([a-z]\)/\1/' "$file" > "$dir/$n-defaults"
        sed -n 's/^# \(filter\.\|filters = \|output\.\)/\1/p' "$file" > "$dir/$n-filters"
        ;;
    esac
done
