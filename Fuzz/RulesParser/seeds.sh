#!/bin/sh
# Seeds for RulesParser: each rule file of the corpus and of Debian's example rules, whole, and
# each of their lines alone. $1 is the seed directory.
set -eu
out=$1
n=0
for f in $(find ../shared/corpus -type f -name '*.rules' 2>/dev/null) /usr/share/doc/auditd/examples/rules/*.rules; do
    [ -f "$f" ] || continue
    n=$((n + 1))
    cp "$f" "$out/file-$n"
    split -l 1 -a 5 "$f" "$out/line-$n-"
done
printf '%s\n' '-a always,exit -F arch=b64 -S execve -F auid>=1000 -F auid!=unset -k exec' > "$out/extra-1"
printf '%s\n' '-w /etc/passwd -p wa -k identity' '-e 1' '-b 8192' '-D' > "$out/extra-2"
