#!/usr/bin/env python3
"""swift-audit benchmark against the real kernel (run as root by `make bench`).

For each scenario it runs the same load under each daemon — swift-audit (JSON to a file), a bare C
reader (the limit: it only receives), and Debian's auditd (RAW to a file) — and prints one table:
events delivered, % lost, delivered events/s, daemon CPU seconds per 100k events, peak RSS, and
syscall-to-file latency (p50/p99) where a file output exists.
With `--daemons …,barewriter` it also runs the bare reader writing each record's text to a file
(`barereader -o`): what keeping the records costs without reassembly or JSON.

Scenarios (the kernel's backlog_limit is 8192 records in all of them):
  backpressure  backlog_wait_time 15000: producers wait for room, so events/s is sustained capacity
  steady20k     a steady 20k events/s, backlog_wait_time 0, with a latency probe beside it
  burst-w1/2/4  as fast as 1, 2 or 4 workers can go, backlog_wait_time 0: loss under bursts

The load is getppid(0x7e57b00c, …) from Benchmarks/loadgen.c, matched by one rule
(-F a0=0x7e57b00c), so nothing else on the machine enters the numbers. The kernel state found at
the start (settings, rules, enabled) is restored at the end; no other audit daemon may run.
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
WORK = "/var/tmp/swift-audit-bench"
MAGIC = "7e57b00c"
CLK_TCK = os.sysconf("SC_CLK_TCK")
DRAIN_LIMIT = 10.0  # seconds after the load generator's exit: the longest wait for a daemon to drain


def sh(*args, check=True, **kw):
    return subprocess.run(args, check=check, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def audit_status():
    out = sh("auditctl", "-s").stdout
    return {k: v for k, v in (line.split(" ", 1) for line in out.splitlines() if " " in line)}


def status_int(key):
    return int(audit_status()[key].split()[0])


def proc_cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def proc_hwm_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def count_lines(path, needle=MAGIC):
    if not os.path.exists(path):
        return 0
    n = 0
    with open(path, "rb") as f:
        for line in f:
            if needle.encode() in line:
                n += 1
    return n


def output_state(path):
    """The output's size and its last write on the monotonic clock, or (None, None)."""
    try:
        st = os.stat(path) if path else None
    except FileNotFoundError:
        st = None
    if st is None:
        return None, None
    return st.st_size, time.monotonic() - (time.time_ns() - st.st_mtime_ns) / 1e9


def end_of_last_event(path, needle=MAGIC):
    """The offset just past the output's last benchmark event, or None if it holds none. Read
    after the run: a daemon's own later lines (loss reports) must not count as its work."""
    if not (path and os.path.exists(path)):
        return None
    with open(path, "rb") as f:
        data = f.read()
    at = data.rfind(needle.encode())
    if at < 0:
        return None
    newline = data.find(b"\n", at)
    return len(data) if newline < 0 else newline + 1


class Sink:
    """A collector on loopback for the network outputs: counts benchmark events it receives.
    `dead` listens nowhere (a collector that is down)."""

    def __init__(self, kind):
        self.kind, self.count, self.stop = kind, 0, False
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        if kind == "dead":
            self.sock.close()  # the port is free again: connections are refused
            return
        if kind == "udp":
            self.sock.setsockopt(socket.SOL_SOCKET, 33, 32 << 20)  # SO_RCVBUFFORCE
        else:
            self.sock.listen(4)
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        needle = MAGIC.encode()
        if self.kind == "udp":
            self.sock.settimeout(0.2)
            while not self.stop:
                try:
                    data = self.sock.recv(65536)
                except socket.timeout:
                    continue
                self.count += data.count(needle)
            return
        self.sock.settimeout(0.2)
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            conn.settimeout(0.2)
            carry = b""
            while not self.stop:
                try:
                    data = conn.recv(1 << 20)
                except socket.timeout:
                    continue
                if not data:
                    break
                data = carry + data
                self.count += data.count(needle)
                carry = data[-(len(needle) - 1):]  # a needle split across two reads

    def close(self):
        self.stop = True
        if self.kind != "dead":
            self.thread.join(timeout=2)
            self.sock.close()


class Daemon:
    """One daemon under test: how to start it, where its events land, how to count them."""

    def __init__(self, name, args, output=None, stats=None, env=None, sink=None):
        self.name, self.args, self.output, self.stats, self.env, self.sink = name, args, output, stats, env, sink
        self.proc = None

    def start(self):
        env = dict(os.environ)
        env.pop("NOTIFY_SOCKET", None)
        env.update(self.env or {})
        self.proc = subprocess.Popen(self.args, stdout=subprocess.DEVNULL, stderr=open(f"{WORK}/{self.name}.log", "w"), env=env)
        deadline = time.time() + 10
        while time.time() < deadline:
            if status_int("pid") == self.proc.pid:
                return
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.name} exited early; see {WORK}/{self.name}.log")
            time.sleep(0.02)
        raise SystemExit(f"{self.name} did not register; see {WORK}/{self.name}.log")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.sink:
            time.sleep(0.3)
            self.sink.close()

    def delivered(self):
        if self.stats:
            with open(self.stats) as f:
                return int(re.search(r"matched=(\d+)", f.read()).group(1))
        return count_lines(self.output)


# swift-audit variants: the file output alone, or beside a network output (its collector on
# loopback; "dead" is a TCP collector that is down, to show it costs the file nothing).
NETWORK_VARIANTS = {
    "swift-audit": None,
    "swift-audit+syslog": ("udp", "output.net.type = syslog\noutput.net.target = udp\noutput.net.address = 127.0.0.1:{port}\n"),
    "swift-audit+gelf": ("tcp", "output.net.type = gelf\noutput.net.transport = tcp\noutput.net.address = 127.0.0.1:{port}\n"),
    "swift-audit+deadgelf": ("dead", "output.net.type = gelf\noutput.net.transport = tcp\noutput.net.address = 127.0.0.1:{port}\n"),
}


def make_daemons(tools, wait, selected):
    daemons = []
    for name in selected:
        if name in NETWORK_VARIANTS:
            out = f"{WORK}/swift-audit.json"
            conf = f"{WORK}/{name}.conf"  # one file per variant: all are written before the runs
            sink, extra = None, ""
            if NETWORK_VARIANTS[name]:
                kind, template = NETWORK_VARIANTS[name]
                sink = Sink(kind)
                extra = template.format(port=sink.port)
            with open(conf, "w") as f:
                f.write(
                    f"backlog_limit = 8192\nbacklog_wait_time = {wait}\nsocket_buffer = 64M\n"
                    f"output.bench.type = file\noutput.bench.path = {out}\noutput.bench.flush = none\n{extra}")
            os.chmod(conf, 0o600)
            daemons.append(Daemon(name, [tools["swift-audit"], "run", "--config", conf, "--log-level", "warning"], output=out, sink=sink))
        elif name == "barereader":
            stats = f"{WORK}/barereader.stats"
            daemons.append(Daemon(name, [tools["barereader"], "-s", stats], stats=stats))
        elif name == "barewriter":
            # The bare reader that also appends each record's text to a file (one write per batch,
            # same thread): what keeping the records costs without reassembly or JSON.
            stats = f"{WORK}/barewriter.stats"
            out = f"{WORK}/barewriter.log"
            daemons.append(Daemon(name, [tools["barereader"], "-s", stats, "-o", out], stats=stats))
        elif name == "auditd":
            confdir = f"{WORK}/auditd-conf"
            os.makedirs(f"{confdir}/plugins.d", exist_ok=True)
            out = f"{WORK}/auditd.log"
            with open(f"{confdir}/auditd.conf", "w") as f:
                f.write(
                    f"local_events = yes\nwrite_logs = yes\nlog_file = {out}\nlog_group = root\nlog_format = RAW\n"
                    "flush = INCREMENTAL_ASYNC\nfreq = 50\nmax_log_file = 1024\nnum_logs = 2\npriority_boost = 4\n"
                    "name_format = NONE\nmax_log_file_action = IGNORE\nspace_left = 2\nspace_left_action = IGNORE\n"
                    "admin_space_left = 1\nadmin_space_left_action = IGNORE\ndisk_full_action = IGNORE\n"
                    "disk_error_action = IGNORE\nq_depth = 2000\noverflow_action = IGNORE\nmax_restarts = 10\n"
                    f"plugin_dir = {confdir}/plugins.d\nend_of_event_timeout = 2\n")
            os.chmod(f"{confdir}/auditd.conf", 0o640)
            daemons.append(Daemon(name, ["/sbin/auditd", "-n", "-c", confdir], output=out))
    return daemons


def ready_time_ms(tools):
    """Milliseconds from exec to READY=1 on a NOTIFY_SOCKET, for swift-audit."""
    path = f"{WORK}/notify.sock"
    if os.path.exists(path):
        os.unlink(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(10)
    conf = f"{WORK}/ready.conf"
    with open(conf, "w") as f:
        f.write(f"output.ready.type = file\noutput.ready.path = {WORK}/ready.json\n")
    os.chmod(conf, 0o600)
    env = dict(os.environ, NOTIFY_SOCKET=path)
    start = time.monotonic()
    proc = subprocess.Popen([tools["swift-audit"], "run", "--config", conf, "--log-level", "warning"], env=env, stdout=subprocess.DEVNULL)
    elapsed = None
    try:
        while True:
            data = sock.recv(4096).decode()
            if "READY=1" in data:
                elapsed = (time.monotonic() - start) * 1000
                break
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        sock.close()
    return elapsed


def run_one(daemon, tools, scenario, events):
    wait = 15000 if scenario["name"] == "backpressure" else 0
    sh("auditctl", "-D")
    sh("auditctl", "-b", "8192")
    sh("auditctl", "--backlog_wait_time", str(wait))
    sh("auditctl", "--reset-lost")
    sh("auditctl", "-e", "1")
    for path in (daemon.output, daemon.stats):
        if path and os.path.exists(path):
            os.unlink(path)
    # Write earlier runs' files back to disk now, outside the timed window: left to the kernel's
    # flusher (about 30 s later), one daemon's writeback would land in whichever run comes then.
    os.sync()
    daemon.start()
    sh("auditctl", "-a", "always,exit", "-F", "arch=b64", "-S", "getppid", "-F", f"a0=0x{MAGIC}", "-k", "bench")
    sh("auditctl", "-a", "always,exit", "-F", "arch=b64", "-S", "getppid", "-F", "a0=0x7e57b00d", "-k", "probe")
    time.sleep(0.5)
    pid = daemon.proc.pid
    cpu0 = proc_cpu_seconds(pid)
    lost0 = status_int("lost")
    probe = None
    if scenario.get("latency") and daemon.output:
        probe = subprocess.Popen([tools["latprobe"], "-f", daemon.output, "-k", "100", "-d", "40"], stdout=subprocess.PIPE, text=True)
    t0 = time.monotonic()
    load = sh(tools["loadgen"], "-n", str(events), "-w", str(scenario["workers"]), "-r", str(scenario.get("rate", 0)))
    load_end = time.monotonic()
    # Drained: the kernel backlog is empty and the output stopped growing for 1 s. While the daemon
    # drains, this loop only stats the output. Reading it here would take a CPU from the daemon under
    # test: counting the 110 MB of JSON of a 200 000-event run costs Python about 0.1 s of CPU, and
    # the daemon usually finishes within a few ms of the load generator.
    # An output that never stops growing ends the wait DRAIN_LIMIT s after the load generator: with a
    # dead GELF collector, swift-audit appended a writer_drop loss event every second (it counted the
    # loss events that the dead output dropped as new drops; fixed since), a change every 1.0 s that
    # the 1 s rule never saw the end of. The end of the run is the last benchmark event's write
    # either way (below).
    seen = []  # (output size, its last write on the monotonic clock), at each change
    last_change, last_marker = time.monotonic(), None
    while True:
        size, wrote = output_state(daemon.output)
        marker = (size, status_int("backlog"))
        if marker != last_marker:
            last_marker, last_change = marker, time.monotonic()
            if size is not None:
                seen.append((size, wrote))
        if marker[1] == 0 and (time.monotonic() - last_change > 1.0 or time.monotonic() - load_end > DRAIN_LIMIT):
            break
        time.sleep(0.02)
    end = last_change
    done = end_of_last_event(daemon.output)
    if done is not None:
        # The modification time seen when the output first held the last benchmark event says when
        # it was written (this loop, one auditctl per turn, only sees it ~30 ms later). Lines the
        # daemon wrote after it in the same turn make it later, never earlier.
        wrote = next((w for s, w in seen if s >= done), None)
        if wrote is not None and wrote <= last_change:
            end = wrote
    latency = {}
    if probe:
        out, _ = probe.communicate(timeout=60)
        latency = dict(kv.split("=") for kv in out.split())
    cpu = proc_cpu_seconds(pid) - cpu0
    rss = proc_hwm_kib(pid)
    lost = status_int("lost") - lost0
    daemon.stop()
    delivered = daemon.delivered()
    if daemon.stats:  # the bare reader timestamps its last matching receive
        with open(daemon.stats) as f:
            last_ns = int(re.search(r"last_ns=(\d+)", f.read()).group(1))
        end = t0 + max(0.001, last_ns / 1e9 - (time.time() - (time.monotonic() - t0)))
    elapsed = max(0.001, end - t0)
    tail = end - load_end
    sh("auditctl", "-D")
    return {
        "daemon": daemon.name, "scenario": scenario["name"], "generated": events, "delivered": delivered,
        "lost_pct": 100.0 * (events - delivered) / events, "eps": delivered / elapsed,
        "loadgen_eps": float(re.search(r"rate_eps=([\d.]+)", load.stdout).group(1)),
        "cpu_per_100k": cpu * 100000 / max(1, delivered), "rss_mib": rss / 1024, "kernel_lost": lost,
        "lat_p50_ms": float(latency.get("lat_p50_ms", "nan")), "lat_p99_ms": float(latency.get("lat_p99_ms", "nan")),
        "lat_found": latency.get("lat_found", "-"), "tail_ms": round(tail * 1000, 1),
        "collector": daemon.sink.count if daemon.sink and daemon.sink.kind != "dead" else None,
    }


def collector(runs, daemon):
    """What the network output's collector received (median), or why there is none."""
    if daemon == "swift-audit+deadgelf":
        return "down"
    counts = [r["collector"] for r in runs if r.get("collector") is not None]
    return str(int(statistics.median(counts))) if counts else "-"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200000, help="events per run (default 200000)")
    parser.add_argument("--reps", type=int, default=1, help="repetitions; the table shows medians")
    parser.add_argument(
        "--daemons", default="swift-audit,barereader,auditd",
        help="any of swift-audit, barereader, barewriter (the bare reader writing raw records to a file), auditd, "
        "swift-audit+syslog, swift-audit+gelf, swift-audit+deadgelf")
    parser.add_argument("--scenarios", default="backpressure,steady20k,burst-w1,burst-w2,burst-w4")
    parser.add_argument("--tools", required=True, help="directory with swift-audit, loadgen, barereader, latprobe")
    parser.add_argument("--json", help="also write every run as JSON lines here")
    parser.add_argument(
        "--network", default="swift-audit+syslog,swift-audit+gelf,swift-audit+deadgelf",
        help="swift-audit variants with a network output beside the file, run in the steady20k scenario ('' for none)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("make bench needs root (it registers audit daemons and loads rules)")
    tools = {name: os.path.join(args.tools, name) for name in ("swift-audit", "loadgen", "barereader", "latprobe")}
    selected = args.daemons.split(",")
    if "auditd" in selected and not os.path.exists("/sbin/auditd"):
        print("auditd is not installed (make test-deps installs it); leaving it out", file=sys.stderr)
        selected.remove("auditd")
    before = audit_status()
    if int(before["pid"]) != 0:
        sys.exit(f"pid {before['pid']} is registered as the audit daemon; stop it first")
    rules_before = sh("auditctl", "-l").stdout
    if rules_before.strip() != "No rules":
        sys.exit("the kernel has audit rules loaded; the benchmark needs a clean rule set (auditctl -D)")
    os.makedirs(WORK, exist_ok=True)
    scenarios = {
        "backpressure": {"name": "backpressure", "workers": 2},
        "steady20k": {"name": "steady20k", "workers": 2, "rate": 20000, "latency": True},
        "burst-w1": {"name": "burst-w1", "workers": 1},
        "burst-w2": {"name": "burst-w2", "workers": 2},
        "burst-w4": {"name": "burst-w4", "workers": 4},
    }
    results = []
    try:
        ready = [ready_time_ms(tools) for _ in range(5)] if "swift-audit" in selected else []
        for name in args.scenarios.split(","):
            scenario = scenarios[name]
            for rep in range(args.reps):
                names = selected + ([n for n in args.network.split(",") if n] if name == "steady20k" else [])
                # Every other repetition runs the daemons in the opposite order, so that neither
                # always runs right after the other (after its file's writeback, say).
                if rep % 2 == 1:
                    names.reverse()
                for daemon in make_daemons(tools, 15000 if name == "backpressure" else 0, names):
                    result = run_one(daemon, tools, scenario, args.events)
                    result["rep"] = rep
                    results.append(result)
                    print(json.dumps(result), file=sys.stderr, flush=True)
    finally:
        sh("auditctl", "-D", check=False)
        sh("auditctl", "-b", before["backlog_limit"], check=False)
        sh("auditctl", "--backlog_wait_time", before["backlog_wait_time"], check=False)
        sh("auditctl", "-r", before["rate_limit"], check=False)
        sh("auditctl", "-e", before["enabled"].split()[0], check=False)
    if args.json:
        with open(args.json, "w") as f:
            for r in results:
                f.write(json.dumps(r) + "\n")
    print(f"\nswift-audit benchmark: {args.events} events per run, {args.reps} rep(s), medians; kernel {os.uname().release}, {os.cpu_count()} CPUs")
    if ready:
        print(f"READY=1 after start: median {statistics.median(ready):.1f} ms (5 starts)\n")
    print("| scenario | daemon | delivered | lost % | events/s | CPU s/100k | peak RSS MiB | p50 ms | p99 ms | collector |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name in args.scenarios.split(","):
        for daemon in selected + [n for n in args.network.split(",") if n]:
            runs = [r for r in results if r["scenario"] == name and r["daemon"] == daemon]
            if not runs:
                continue
            med = lambda key: statistics.median(r[key] for r in runs)
            lat = lambda key: "-" if med(key) != med(key) else f"{med(key):.2f}"
            print(f"| {name} | {daemon} | {int(med('delivered'))} | {med('lost_pct'):.1f} | {med('eps'):.0f} | "
                  f"{med('cpu_per_100k'):.2f} | {med('rss_mib'):.1f} | {lat('lat_p50_ms')} | {lat('lat_p99_ms')} | "
                  f"{collector(runs, daemon)} |")
    for daemon in [d for d in selected if d != "barereader"]:
        capacity = capacity_ratios(results, daemon)
        if capacity:
            ratios = " ".join(f"{r:.2f}" for r in capacity)
            print(f"\nSustained capacity of {daemon} relative to the bare reader of the same repetition: "
                  f"{ratios}; median {statistics.median(capacity):.2f}")


def capacity_ratios(results, daemon="swift-audit"):
    """`daemon`'s events/s over the bare reader's in the backpressure scenario, one ratio per
    repetition. The machine's own speed drifts over minutes (on a shared VM the bare reader alone
    varies by a fifth between repetitions), and the daemons of one repetition run seconds apart,
    so the ratio within a repetition carries less of that drift than a ratio of medians."""
    by_rep = {}
    for r in results:
        if r["scenario"] == "backpressure" and r["daemon"] in (daemon, "barereader"):
            by_rep.setdefault(r["rep"], {})[r["daemon"]] = r["eps"]
    return [pair[daemon] / pair["barereader"] for _, pair in sorted(by_rep.items())
            if len(pair) == 2 and pair["barereader"] > 0]


if __name__ == "__main__":
    main()
