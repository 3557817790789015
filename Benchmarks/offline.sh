#!/bin/sh
# Offline throughput: MB/s of `swift-audit parse` (enriched and raw) against Debian's laurel 0.5.1
# reading the same auditd ENRICHED audit.logs on standard input, JSON lines to a pipe.
#
#   Benchmarks/offline.sh BINARY [MB]          (make bench-offline)
#
# The logs (about MB megabytes each, default 100) are built once by Benchmarks/mklogs.py from
# ../shared/corpus/local under $OFFLINE_WORK: the corpus copied, the same without its one long
# argument, and three with a tenth of the bytes in 1, 10 and 100 KiB hex arguments. Each program
# reads each log REPS times (default 3), the programs' order reversed every other repetition;
# /usr/bin/time gives wall and CPU (user + system) seconds. Prints every run, then the medians.
# No kernel, no root: laurel's process enrichment reads /proc only, and it is off (see below).
set -eu
binary=$(realpath "$1")
mb=${2:-100}
reps=${REPS:-3}
corpus=${CORPUS:-$(dirname "$0")/../../shared/corpus/local}
work=${OFFLINE_WORK:-/var/tmp/swift-audit-offline}
laurel=${LAUREL:-/usr/sbin/laurel}
logs="plain corpus hex1k hex10k hex100k"

[ -x "$laurel" ] || { echo "offline.sh: no $laurel (apt-get install laurel)" >&2; exit 4; }
mkdir -p "$work"
python3 "$(dirname "$0")/mklogs.py" "$corpus" "$work/logs-$mb" "$mb"
run=$(mktemp -d /tmp/swift-audit-offline-XXXXXX)
trap 'rm -rf "$run"' EXIT INT TERM

# laurel as a filter: its JSON lines to standard output ("-"). The enrichments that look up the
# processes of each event in this machine's /proc (pid, container, script, environment) are off:
# the logs' processes are not this machine's, and swift-audit parse does no such lookup. The
# translations come from the logs' ENRICHED part, as swift-audit's do. Its other settings are
# Debian's /etc/laurel/config.toml defaults.
cat > "$run/laurel.toml" <<EOF
directory = "$run"
[auditlog]
file = "-"
[enrich]
pid = false
container = false
script = false
execve-env = []
EOF

measure() {  # measure TOOL LOG REP: one line of results.tsv
    tool=$1
    name=$2
    repetition=$3
    input=$work/logs-$mb/$name.log
    case $tool in
        laurel) set -- "$laurel" -c "$run/laurel.toml" ;;
        enriched) set -- "$binary" parse --format enriched - ;;
        raw) set -- "$binary" parse --format raw - ;;
    esac
    /usr/bin/time -f '%e %U %S %M' -o "$run/time" "$@" < "$input" 2> "$run/stderr" | wc -l > "$run/lines"
    size=$(stat -c %s "$input")
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$tool" "$repetition" "$size" "$(cat "$run/lines")" \
        "$(tail -n 1 "$run/time" | tr ' ' '\t')" | tee -a "$run/results.tsv"
}

printf 'log\ttool\trep\tbytes\tlines\twall_s\tuser_s\tsys_s\tmaxrss_kib\n'
for log in $logs; do cat "$work/logs-$mb/$log.log" > /dev/null; done  # into the page cache
rep=1
while [ "$rep" -le "$reps" ]; do
    order="laurel enriched raw"
    [ $((rep % 2)) -eq 0 ] && order="raw enriched laurel"
    for log in $logs; do
        for tool in $order; do measure "$tool" "$log" "$rep"; done
    done
    rep=$((rep + 1))
done
cp "$run/results.tsv" "$work/results-$(date +%Y%m%d-%H%M%S).tsv"

python3 - "$run/results.tsv" <<'EOF'
import statistics, sys
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1])]
runs = {}
for log, tool, rep, size, lines, wall, user, sys_, rss in rows:
    runs.setdefault((log, tool), []).append((int(size), int(lines), float(wall), float(user) + float(sys_), int(rss)))
print("\nMedians; MB = 10^6 bytes; CPU = user + system")
print("| log | MB | program | events out | wall s | CPU s | MB/s (wall) | MB/s (CPU) | peak RSS MiB | vs laurel (wall) |")
print("|---|---|---|---|---|---|---|---|---|---|")
logs = list(dict.fromkeys(r[0] for r in rows))
for log in logs:
    laurel_wall = statistics.median(r[2] for r in runs[(log, "laurel")])
    for tool in ("laurel", "enriched", "raw"):
        rs = runs[(log, tool)]
        size = rs[0][0]
        wall = statistics.median(r[2] for r in rs)
        cpu = statistics.median(r[3] for r in rs)
        name = "laurel 0.5.1" if tool == "laurel" else f"swift-audit parse --format {tool}"
        print(f"| {log} | {size / 1e6:.0f} | {name} | {statistics.median(r[1] for r in rs):.0f} | {wall:.2f} | "
              f"{cpu:.2f} | {size / 1e6 / wall:.1f} | {size / 1e6 / max(cpu, 0.01):.1f} | "
              f"{statistics.median(r[4] for r in rs) / 1024:.1f} | {laurel_wall / wall:.1f}x |")
EOF
