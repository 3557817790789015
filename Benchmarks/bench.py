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
  exec1000, exec2000
                /bin/true started 1000 or 2000 times a second (Benchmarks/execgen.c) under an execve
                rule, backlog_wait_time 15000: CPU of the whole audit side (daemon, its plugins,
                kauditd) per 1000 execs for swift-audit raw, swift-audit enriched, auditd RAW and
                auditd ENRICHED with laurel as its plugin (--exec-daemons); swift-audit's setups are
                raw, enriched and ecs with process context (the default), and raw and enriched
                with `process_context = no`; a table of its own
  forkstorm     Benchmarks/forkstorm.c forks short-lived processes as fast as 2 workers can for 60 s
                (--storm-seconds) under a rule on fork/clone/execve/exit_group of its group id;
                swift-audit enriched with process_table_size 16384 (the default), 1024, and without
                the table (--storm-setups): the daemon's RSS over time, and the table's entries at
                stop (from its state file); a table of its own

Network outputs (--network, in the steady20k scenario, each beside the file output): syslog over
UDP, GELF over TCP and to a dead collector (Python receivers on loopback), and against a private
rsyslogd on loopback: syslog over TLS (imtcp with the ossl driver), RELP (imrelp) and RELP over TLS
(imrelp with tls="on"), both TLS variants with a client certificate (x509/certvalid). The harness
makes the certificates with `openssl` in its work directory. The collector column is what the
collector wrote to its file (for RELP: distinct events; duplicates are reported apart).
  outage20k     a steady 20k events/s with a RELP-over-TLS output that has a disk spool; its rsyslogd
                is SIGKILLed --outage-before s into the load and started again --outage-seconds
                (default 30) s later, and the load goes on for --outage-after s more: events lost
                (generated minus distinct events the collector wrote), the spool's peak size (its
                directory, sampled every 0.1 s, and its event count from STATUS=), and the catch-up
                time from the collector's return until the spool is empty; a table of its own

The load is getppid(0x7e57b00c, …) from Benchmarks/loadgen.c, matched by one rule
(-F a0=0x7e57b00c), so nothing else on the machine enters the numbers. The kernel state found at
the start (settings, rules, enabled) is restored at the end; no other audit daemon may run. The whole
run holds the kernel tests' lock (KERNEL_LOCK), so it never runs beside a kernel test.
"""
import argparse
import fcntl
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
KERNEL_LOCK = "/run/lock/swift-audit-kernel-tests.lock"  # Tests/AuditTestSupport/KernelTestLock.swift
EXEC_KEY = "benchexec"
EXEC_SECONDS = 10.0  # each exec run starts rate × this many programs (--exec-seconds)


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


TLS_DIR = f"{WORK}/tls"


def make_certificates():
    """A CA, a server certificate for 127.0.0.1 and a client certificate, with `openssl`, in
    TLS_DIR (EC P-256, unencrypted keys, as the tests make them); returns their paths."""
    os.makedirs(TLS_DIR, mode=0o700, exist_ok=True)
    paths = {name: f"{TLS_DIR}/{name}" for name in ("ca.pem", "ca.key", "server.pem", "server.key", "client.pem", "client.key")}
    if all(os.path.exists(p) for p in paths.values()):
        return paths
    ssl = lambda *a: sh("openssl", *a)
    ssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", paths["ca.key"])
    ssl("req", "-x509", "-new", "-key", paths["ca.key"], "-sha256", "-days", "30", "-subj", "/CN=swift-audit bench CA",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        "-out", paths["ca.pem"])
    for name, ext in (("server", "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"),
                      ("client", "extendedKeyUsage=clientAuth\n")):
        with open(f"{TLS_DIR}/{name}.ext", "w") as f:
            f.write(ext)
        ssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", paths[f"{name}.key"])
        ssl("req", "-new", "-key", paths[f"{name}.key"], "-subj", f"/CN={name}", "-out", f"{TLS_DIR}/{name}.csr")
        ssl("x509", "-req", "-in", f"{TLS_DIR}/{name}.csr", "-CA", paths["ca.pem"], "-CAkey", paths["ca.key"],
            "-CAcreateserial", "-days", "30", "-sha256", "-extfile", f"{TLS_DIR}/{name}.ext", "-out", paths[f"{name}.pem"])
    return paths


RSYSLOGD = "/usr/sbin/rsyslogd"
RSYSLOG_MODULES = "/usr/lib/x86_64-linux-gnu/rsyslog"


def rsyslog_available(kind):
    """Whether rsyslogd and the modules a collector of `kind` needs are installed."""
    needed = {"rsyslog-tls": ("imtcp.so", "lmnsd_ossl.so"), "rsyslog-relp": ("imrelp.so",),
              "rsyslog-relptls": ("imrelp.so",)}[kind]
    return os.path.exists(RSYSLOGD) and shutil.which("openssl") is not None and all(
        os.path.exists(f"{RSYSLOG_MODULES}/{m}") for m in needed)


class RsyslogSink:
    """A private rsyslogd on a free loopback port for the network outputs that need a real
    collector: `rsyslog-tls` (imtcp, ossl driver, mode 1, x509/certvalid), `rsyslog-relp` (imrelp)
    or `rsyslog-relptls` (imrelp, tls="on", certvalid). Its ruleset queue is Direct: each message
    is in its file before imrelp acknowledges it. It counts the benchmark events in that file when
    closed: `count` distinct events (the load generator's a1 is unique), `total` lines."""

    def __init__(self, kind):
        self.kind, self.count, self.total, self.proc = kind, 0, 0, None
        self.dir = f"{WORK}/{kind}"
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir, mode=0o700)
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.received = f"{self.dir}/received.log"
        certs = make_certificates()
        lines = [f'global(workDirectory="{self.dir}" maxMessageSize="64k"']
        if kind == "rsyslog-tls":
            lines[0] += (f' defaultNetstreamDriverCAFile="{certs["ca.pem"]}" defaultNetstreamDriverCertFile="{certs["server.pem"]}"'
                         f' defaultNetstreamDriverKeyFile="{certs["server.key"]}"')
        lines[0] += ")"
        if kind == "rsyslog-tls":
            lines += ['module(load="imtcp" StreamDriver.Name="ossl" StreamDriver.Mode="1" StreamDriver.AuthMode="x509/certvalid")',
                      f'input(type="imtcp" address="127.0.0.1" port="{self.port}" ruleset="bench")']
        else:
            tls = ""
            if kind == "rsyslog-relptls":
                tls = (f' tls="on" tls.cacert="{certs["ca.pem"]}" tls.mycert="{certs["server.pem"]}"'
                       f' tls.myprivkey="{certs["server.key"]}" tls.authmode="certvalid"')
            lines += ['module(load="imrelp")',
                      f'input(type="imrelp" address="127.0.0.1" port="{self.port}" ruleset="bench" maxDataSize="64k"{tls})']
        lines += ['template(name="bench" type="string" string="%msg%\\n")',
                  'ruleset(name="bench" queue.type="Direct") {',
                  f'    action(type="omfile" file="{self.received}" template="bench")', "}", ""]
        with open(f"{self.dir}/rsyslog.conf", "w") as f:
            f.write("\n".join(lines))
        self.start()

    def start(self):
        self.proc = subprocess.Popen([RSYSLOGD, "-n", "-f", f"{self.dir}/rsyslog.conf", "-i", f"{self.dir}/rsyslog.pid"],
                                     stdout=subprocess.DEVNULL, stderr=open(f"{self.dir}/rsyslog.out", "a"))
        COLLECTORS.append(self)
        deadline = time.time() + 10
        while time.time() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise SystemExit(f"rsyslogd ({self.kind}) did not come up; see {self.dir}/rsyslog.out")

    def kill(self):
        """SIGKILL: a collector that dies (its connections reset by the kernel)."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self in COLLECTORS:
            COLLECTORS.remove(self)
        if os.path.exists(f"{self.dir}/rsyslog.pid"):
            os.unlink(f"{self.dir}/rsyslog.pid")

    def close(self):
        # Syslog over TLS has no acknowledgement: wait until the file stops growing (1 s, at most 30 s).
        last, since, deadline = None, time.monotonic(), time.monotonic() + 30
        while time.monotonic() < deadline and time.monotonic() - since < 1.0:
            size = os.path.getsize(self.received) if os.path.exists(self.received) else 0
            if size != last:
                last, since = size, time.monotonic()
            time.sleep(0.1)
        self.kill()
        self.count, self.total = count_distinct(self.received)


def count_distinct(path):
    """(distinct benchmark events, benchmark lines) in `path`: loadgen's a1 is unique per call."""
    if not os.path.exists(path):
        return 0, 0
    needle, seen, total = MAGIC.encode(), set(), 0
    pattern = re.compile(rb"a1=([0-9a-f]+)")
    with open(path, "rb") as f:
        for line in f:
            if needle in line:
                total += 1
                found = pattern.search(line)
                seen.add(found.group(1) if found else line)
    return len(seen), total


def make_sink(kind):
    return RsyslogSink(kind) if kind.startswith("rsyslog-") else Sink(kind)


RUNNING = []  # daemons started and not stopped yet: main() stops them if a run fails
COLLECTORS = []  # rsyslogds started and not stopped yet: main() kills them if a run fails


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
        RUNNING.append(self)
        deadline = time.time() + 10
        while time.time() < deadline:
            if status_int("pid") == self.proc.pid:
                return
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.name} exited early; see {WORK}/{self.name}.log")
            time.sleep(0.02)
        raise SystemExit(f"{self.name} did not register; see {WORK}/{self.name}.log")

    def stop(self):
        if self in RUNNING:
            RUNNING.remove(self)
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
    "swift-audit+tls": ("rsyslog-tls", "output.net.type = syslog\noutput.net.target = tls\noutput.net.address = 127.0.0.1:{port}\n"
                        "output.net.tls_ca = {ca}\noutput.net.tls_cert = {cert}\noutput.net.tls_key = {key}\n"),
    "swift-audit+relp": ("rsyslog-relp", "output.net.type = relp\noutput.net.target = tcp\noutput.net.address = 127.0.0.1:{port}\n"),
    "swift-audit+relptls": ("rsyslog-relptls", "output.net.type = relp\noutput.net.target = tls\noutput.net.address = 127.0.0.1:{port}\n"
                            "output.net.tls_ca = {ca}\noutput.net.tls_cert = {cert}\noutput.net.tls_key = {key}\n"),
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
                sink = make_sink(kind)
                certs = make_certificates() if "{ca}" in template else {}
                extra = template.format(port=sink.port, ca=certs.get("ca.pem"), cert=certs.get("client.pem"),
                                        key=certs.get("client.key"))
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
            out = f"{WORK}/auditd.log"
            auditd_conf(confdir, out, "RAW")
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
        "collector_lines": getattr(daemon.sink, "total", None),
    }


# The exec scenario: a realistic load (laurel's published method), the CPU of the whole audit side.
# swift-audit's setups: (format, extra configuration). Process context (the process table, issue
# #19) is on by default; it is written out here so that the setups say what they measure. The
# table is kept for every format (`raw` too); only the formats that write context read it.
SWIFT_EXEC_SETUPS = {
    "swift-audit-raw": ("raw", "process_context = yes\n"),
    "swift-audit-raw-nocontext": ("raw", "process_context = no\n"),
    "swift-audit-enriched": ("enriched", "process_context = yes\n"),
    "swift-audit-ecs": ("ecs", "process_context = yes\n"),
    "swift-audit-enriched-nocontext": ("enriched", "process_context = no\n"),
}
EXEC_DAEMONS = tuple(SWIFT_EXEC_SETUPS) + ("auditd", "auditd+laurel")


def auditd_conf(confdir, out, log_format):
    os.makedirs(f"{confdir}/plugins.d", exist_ok=True)
    with open(f"{confdir}/auditd.conf", "w") as f:
        f.write(
            f"local_events = yes\nwrite_logs = yes\nlog_file = {out}\nlog_group = root\nlog_format = {log_format}\n"
            "flush = INCREMENTAL_ASYNC\nfreq = 50\nmax_log_file = 1024\nnum_logs = 2\npriority_boost = 4\n"
            "name_format = NONE\nmax_log_file_action = IGNORE\nspace_left = 2\nspace_left_action = IGNORE\n"
            "admin_space_left = 1\nadmin_space_left_action = IGNORE\ndisk_full_action = IGNORE\n"
            "disk_error_action = IGNORE\nq_depth = 2000\noverflow_action = IGNORE\nmax_restarts = 10\n"
            f"plugin_dir = {confdir}/plugins.d\nend_of_event_timeout = 2\n")
    os.chmod(f"{confdir}/auditd.conf", 0o640)


def make_exec_daemon(tools, name):
    """A daemon of the exec scenario; `outputs` are the files whose growth shows it is working."""
    if name in SWIFT_EXEC_SETUPS:
        fmt, extra = SWIFT_EXEC_SETUPS[name]
        out = f"{WORK}/{name}.json"
        conf = f"{WORK}/{name}.conf"
        with open(conf, "w") as f:
            f.write("backlog_limit = 8192\nbacklog_wait_time = 15000\nsocket_buffer = 64M\n"
                    f"output.bench.type = file\noutput.bench.path = {out}\noutput.bench.flush = none\n"
                    f"output.bench.format = {fmt}\n{extra}")
        os.chmod(conf, 0o600)
        daemon = Daemon(name, [tools["swift-audit"], "run", "--config", conf, "--log-level", "warning"], output=out)
        daemon.outputs = [out]
        return daemon
    # auditd as Debian configures it for each case: RAW alone; ENRICHED with laurel as its plugin
    # (Debian's /etc/audit/plugins.d/laurel.conf and /etc/laurel/config.toml, only with this run's
    # directory and no rotation, so that the count of events sees all of them).
    confdir = f"{WORK}/{name}-conf"
    shutil.rmtree(confdir, ignore_errors=True)
    out = f"{WORK}/{name}.log"
    auditd_conf(confdir, out, "RAW" if name == "auditd" else "ENRICHED")
    daemon = Daemon(name, ["/sbin/auditd", "-n", "-c", confdir], output=out)
    daemon.outputs = [out]
    if name == "auditd+laurel":
        laurel_dir = f"{WORK}/laurel"
        shutil.rmtree(laurel_dir, ignore_errors=True)
        os.makedirs(laurel_dir)
        shutil.chown(laurel_dir, "_laurel")
        with open("/etc/laurel/config.toml") as f:
            config = f.read()
        config = re.sub(r'(?m)^directory = .*$', f'directory = "{laurel_dir}"', config)
        config = re.sub(r'(?m)^size = .*$', "size = 100000000000", config)
        with open(f"{confdir}/laurel.toml", "w") as f:
            f.write(config)
        with open("/etc/audit/plugins.d/laurel.conf") as f:
            plugin = f.read()
        plugin = re.sub(r'(?m)^active = .*$', "active = yes", plugin)
        plugin = re.sub(r'(?m)^args = .*$', f"args = --config {confdir}/laurel.toml", plugin)
        with open(f"{confdir}/plugins.d/laurel.conf", "w") as f:
            f.write(plugin)
        os.chmod(f"{confdir}/plugins.d/laurel.conf", 0o640)
        daemon.outputs.append(f"{laurel_dir}/audit.log")
    return daemon


def kauditd_pid():
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/comm") as f:
                if f.read().strip() == "kauditd":
                    return int(pid)
        except (FileNotFoundError, NotADirectoryError, ProcessLookupError):
            continue
    raise SystemExit("no kauditd thread found")


def children(pid):
    """The daemon's child processes (auditd's plugins), from /proc/PID/task/*/children."""
    found = []
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/children") as f:
                found += [int(c) for c in f.read().split()]
        except FileNotFoundError:
            continue
    return found


def audit_side_cpu(daemon, plugins, kauditd):
    """CPU seconds so far of the daemon (all its threads), each plugin, and kauditd."""
    return (proc_cpu_seconds(daemon.proc.pid), sum(proc_cpu_seconds(p) for p in plugins),
            proc_cpu_seconds(kauditd))


def count_exec_events(path, key=EXEC_KEY):
    """Lines that name the rule's key, but for the CONFIG_CHANGE records of adding and deleting
    the rule: one per exec in every output (for auditd, its SYSCALL record's line)."""
    if not os.path.exists(path):
        return 0
    n = 0
    with open(path, "rb") as f:
        for line in f:
            if key.encode() in line and b"_rule" not in line:
                n += 1
    return n


def run_exec(daemon, tools, rate, kauditd):
    execs = int(rate * EXEC_SECONDS)
    sh("auditctl", "-D")
    sh("auditctl", "-b", "8192")
    sh("auditctl", "--backlog_wait_time", "15000")
    sh("auditctl", "--reset-lost")
    sh("auditctl", "-e", "1")
    for path in daemon.outputs:
        if os.path.exists(path):
            os.unlink(path)
    os.sync()
    load = None
    try:
        # The rule names the load generator as the parent, so that only its programs are counted (the
        # harness's own auditctl calls and the rest of the machine are not); it waits for the rule.
        # It starts before the daemon, like the shell or service that starts programs on a real
        # host: swift-audit's process table then knows it from /proc at start (the rule audits
        # none of its own calls), so its programs get their parent's context, as laurel gives
        # them from /proc. Started after the daemon, the generator was unknown to the table and
        # the context setups wrote no parent (no PPID in enriched, only process.parent.pid in ecs).
        load = subprocess.Popen([tools["execgen"], "-g", "-n", str(execs), "-r", str(rate)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        ready = load.stdout.readline()
        if not ready.startswith("ready"):
            raise SystemExit(f"execgen did not start: {ready!r}")
        daemon.start()
        time.sleep(0.5)  # auditd starts its plugins after it registers
        plugins = children(daemon.proc.pid)
        if daemon.name == "auditd+laurel" and not plugins:
            raise SystemExit(f"auditd started no laurel; see {WORK}/{daemon.name}.log")
        sh("auditctl", "-a", "always,exit", "-F", "arch=b64", "-S", "execve", "-F", f"ppid={load.pid}",
           "-k", EXEC_KEY)
        time.sleep(0.5)
        lost0 = status_int("lost")
        cpu0 = audit_side_cpu(daemon, plugins, kauditd)
        load.stdin.write("go\n")
        load.stdin.flush()
        out, _ = load.communicate(timeout=EXEC_SECONDS * 10)
        load_end = time.monotonic()
        # Drained: the backlog is empty and no output grew for 1.5 s. The CPU counted is the one
        # sampled when the outputs first reached their final sizes, not the idle second after.
        samples, last_marker, last_change = [], None, time.monotonic()
        while True:
            sizes = tuple(os.path.getsize(p) if os.path.exists(p) else 0 for p in daemon.outputs)
            cpu = audit_side_cpu(daemon, plugins, kauditd)
            marker = (sizes, status_int("backlog"))
            if marker != last_marker:
                last_marker, last_change = marker, time.monotonic()
                samples.append((sizes, cpu))
            if marker[1] == 0 and (time.monotonic() - last_change > 1.5 or time.monotonic() - load_end > DRAIN_LIMIT):
                break
            time.sleep(0.05)
        cpu1 = next(c for s, c in samples if s == last_marker[0])
        lost = status_int("lost") - lost0
        rss = proc_hwm_kib(daemon.proc.pid) + sum(proc_hwm_kib(p) for p in plugins)
        sh("auditctl", "-D")
    finally:
        if load and load.poll() is None:
            load.kill()
            load.wait()
        if daemon.proc:
            daemon.stop()  # laurel writes the events it still holds when auditd stops it
    delivered = count_exec_events(daemon.outputs[-1])
    daemon_cpu, plugin_cpu, kauditd_cpu = (b - a for a, b in zip(cpu0, cpu1))
    total = daemon_cpu + plugin_cpu + kauditd_cpu
    per = 1000 / execs
    return {
        "daemon": daemon.name, "scenario": f"exec{rate}", "execs": execs, "delivered": delivered,
        "rate_eps": float(re.search(r"rate_eps=([\d.]+)", out).group(1)), "kernel_lost": lost,
        "cpu_per_1k": total * per, "daemon_cpu_per_1k": daemon_cpu * per, "plugin_cpu_per_1k": plugin_cpu * per,
        "kauditd_cpu_per_1k": kauditd_cpu * per, "rss_mib": rss / 1024,
    }


def print_exec_table(results, rates, names):
    print(f"\nexec scenario: /bin/true at a fixed rate for {EXEC_SECONDS:g} s per run, CPU seconds per 1000 execs "
          "(medians); audit side = daemon + plugins + kauditd")
    print("| rate/s | setup | achieved/s | events | kernel lost | audit side | daemon | plugin | kauditd | peak RSS MiB |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for rate in rates:
        for name in names:
            runs = [r for r in results if r["scenario"] == f"exec{rate}" and r["daemon"] == name]
            if not runs:
                continue
            med = lambda key: statistics.median(r[key] for r in runs)
            print(f"| {rate} | {name} | {med('rate_eps'):.0f} | {int(med('delivered'))} | {int(med('kernel_lost'))} | "
                  f"{med('cpu_per_1k'):.3f} | {med('daemon_cpu_per_1k'):.3f} | {med('plugin_cpu_per_1k'):.3f} | "
                  f"{med('kauditd_cpu_per_1k'):.3f} | {med('rss_mib'):.1f} |")


# The fork storm (issue #19, "Tests and acceptance"): the process table's memory while thousands of
# short-lived processes a second come and go. swift-audit only, enriched output (the table is read
# for every event), with the default table size, a small one, and no table (the daemon's own RSS
# under the same load).
STORM_KEY = "forkstorm"
STORM_GID = 32343  # 0x7e57: the storm's processes run with this group id; the rule matches it
STORM_SECONDS = 60.0  # --storm-seconds
STORM_EXEC_EVERY = 10  # every 10th child execs /bin/true, the others _exit at once
STORM_SETUPS = {
    "table-16384": "process_context = yes\nprocess_table_size = 16384\n",
    "table-1024": "process_context = yes\nprocess_table_size = 1024\n",
    "nocontext": "process_context = no\n",
}


def proc_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def count_state_entries(path):
    """Entries in a process state file (one `P …` line each), or None without one."""
    if not os.path.exists(path):
        return None
    with open(path, "rb") as f:
        return sum(1 for line in f if line.startswith(b"P "))


def run_storm(name, tools, seconds):
    out = f"{WORK}/forkstorm-{name}.json"
    state = f"{WORK}/forkstorm-{name}.state"
    conf = f"{WORK}/forkstorm-{name}.conf"
    for path in (out, state):
        if os.path.exists(path):
            os.unlink(path)
    context = "process_context = no" not in STORM_SETUPS[name]
    with open(conf, "w") as f:
        f.write("backlog_limit = 8192\nbacklog_wait_time = 15000\nsocket_buffer = 64M\n"
                f"output.bench.type = file\noutput.bench.path = {out}\noutput.bench.flush = none\n"
                f"output.bench.format = enriched\n{STORM_SETUPS[name]}"
                + (f"process_state_file = {state}\n" if context else ""))
    os.chmod(conf, 0o600)
    sh("auditctl", "-D")
    sh("auditctl", "-b", "8192")
    sh("auditctl", "--backlog_wait_time", "15000")
    sh("auditctl", "--reset-lost")
    sh("auditctl", "-e", "1")
    os.sync()
    daemon = Daemon(f"forkstorm-{name}", [tools["swift-audit"], "run", "--config", conf, "--log-level", "warning"], output=out)
    storm = None
    samples = []  # (seconds since the storm's start, daemon RSS KiB), every 0.25 s
    try:
        daemon.start()
        time.sleep(0.5)
        pid = daemon.proc.pid
        rss_start = proc_rss_kib(pid)
        storm = subprocess.Popen([tools["forkstorm"], "-g", "-s", str(seconds), "-x", str(STORM_EXEC_EVERY),
                                  "-G", str(STORM_GID)],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        ready = storm.stdout.readline()
        if not ready.startswith("ready"):
            raise SystemExit(f"forkstorm did not start: {ready!r}")
        sh("auditctl", "-a", "always,exit", "-F", "arch=b64", "-S", "fork,vfork,clone,clone3,execve,exit_group",
           "-F", f"gid={STORM_GID}", "-k", STORM_KEY)
        time.sleep(0.5)
        lost0 = status_int("lost")
        cpu0 = proc_cpu_seconds(pid)
        t0 = time.monotonic()
        storm.stdin.write("go\n")
        storm.stdin.flush()
        storm.stdin.close()
        while storm.poll() is None:
            samples.append((time.monotonic() - t0, proc_rss_kib(pid)))
            time.sleep(0.25)
        storm_out = storm.stdout.read()
        storm_end = time.monotonic()
        rss_storm_end = proc_rss_kib(pid)
        # Drained: backlog empty and the output unchanged for 1.5 s (at most DRAIN_LIMIT s).
        last_marker, last_change = None, time.monotonic()
        while True:
            marker = (os.path.getsize(out) if os.path.exists(out) else 0, status_int("backlog"))
            if marker != last_marker:
                last_marker, last_change = marker, time.monotonic()
            samples.append((time.monotonic() - t0, proc_rss_kib(pid)))
            if marker[1] == 0 and (time.monotonic() - last_change > 1.5 or time.monotonic() - storm_end > DRAIN_LIMIT):
                break
            time.sleep(0.25)
        cpu = proc_cpu_seconds(pid) - cpu0
        lost = status_int("lost") - lost0
        rss_end = proc_rss_kib(pid)
        hwm = proc_hwm_kib(pid)
        sh("auditctl", "-D")
    finally:
        if storm and storm.poll() is None:
            storm.kill()
            storm.wait()
        daemon.stop()  # the table is saved to the state file at stop
    events = count_exec_events(out, STORM_KEY)
    size = os.path.getsize(out) if os.path.exists(out) else 0
    os.unlink(out)  # a few hundred MB a run
    forks = int(re.search(r"forks=(\d+)", storm_out).group(1))
    half = [r for t, r in samples if t >= seconds / 2 and t <= seconds]
    return {
        "daemon": f"forkstorm-{name}", "scenario": "forkstorm", "setup": name, "seconds": seconds,
        "forks": forks, "execs": int(re.search(r"execs=(\d+)", storm_out).group(1)),
        "rate_eps": float(re.search(r"rate_eps=([\d.]+)", storm_out).group(1)),
        "events": events, "output_mb": size / 1e6, "kernel_lost": lost,
        "cpu_per_1k_forks": cpu * 1000 / max(1, forks),
        "rss_start_mib": rss_start / 1024, "rss_peak_mib": hwm / 1024,
        "rss_second_half_max_mib": (max(half) if half else 0) / 1024,
        "rss_storm_end_mib": rss_storm_end / 1024, "rss_end_mib": rss_end / 1024,
        "state_entries": count_state_entries(state),
        "rss_timeline": [(round(t, 1), r) for t, r in samples[::4]],  # about one a second
    }


def print_storm_table(results):
    runs = [r for r in results if r["scenario"] == "forkstorm"]
    if not runs:
        return
    print(f"\nfork storm: {runs[0]['seconds']:g} s, every {STORM_EXEC_EVERY}th child execs /bin/true, the rest _exit; "
          "enriched output; daemon RSS (medians)")
    print("| setup | forks/s | events written | kernel lost | daemon CPU s/1000 forks | RSS start MiB | "
          "peak RSS MiB | max RSS 2nd half MiB | RSS at storm end MiB | RSS drained MiB | entries at stop |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name in STORM_SETUPS:
        sel = [r for r in runs if r["setup"] == name]
        if not sel:
            continue
        med = lambda key: statistics.median(r[key] for r in sel)
        entries = [r["state_entries"] for r in sel if r["state_entries"] is not None]
        print(f"| {name} | {med('rate_eps'):.0f} | {int(med('events'))} | {int(med('kernel_lost'))} | "
              f"{med('cpu_per_1k_forks'):.3f} | {med('rss_start_mib'):.1f} | {med('rss_peak_mib'):.1f} | "
              f"{med('rss_second_half_max_mib'):.1f} | {med('rss_storm_end_mib'):.1f} | {med('rss_end_mib'):.1f} | "
              f"{int(statistics.median(entries)) if entries else '-'} |")


def collector(runs, daemon):
    """What the network output's collector received (median), or why there is none; for a real
    collector, duplicates (lines beyond the distinct events) follow in parentheses."""
    if daemon == "swift-audit+deadgelf":
        return "down"
    counts = [r["collector"] for r in runs if r.get("collector") is not None]
    if not counts:
        return "-"
    text = str(int(statistics.median(counts)))
    lines = [r["collector_lines"] - r["collector"] for r in runs if r.get("collector_lines") is not None]
    return text + (f" (+{int(statistics.median(lines))} dup)" if lines and max(lines) > 0 else "")


OUTAGE_RATE = 20000


def spool_bytes(path):
    """Bytes of the spool's segment files (an empty spool has none)."""
    try:
        return sum(e.stat().st_size for e in os.scandir(path) if e.name.endswith(".seg"))
    except FileNotFoundError:
        return 0


class StatusListener:
    """A NOTIFY_SOCKET for the daemon: keeps the largest `spool N events` its STATUS= lines showed."""

    def __init__(self, path):
        if os.path.exists(path):
            os.unlink(path)
        self.path, self.peak_events, self.last, self.stop = path, 0, "", False
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.2)
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop:
            try:
                data = self.sock.recv(65536).decode(errors="replace")
            except socket.timeout:
                continue
            for line in data.splitlines():
                if line.startswith("STATUS="):
                    self.last = line
                    for found in re.finditer(r"spool (\d+) events", line):
                        self.peak_events = max(self.peak_events, int(found.group(1)))

    def close(self):
        self.stop = True
        self.thread.join(timeout=2)
        self.sock.close()


def run_outage(tools, outage, before, after, rate=OUTAGE_RATE, queue_size=8192):
    """A steady `rate` events/s into a file output and a RELP-over-TLS output with a disk
    spool; the output's rsyslogd is SIGKILLed `before` s into the load and started again `outage`
    s later; the load goes on for `after` s more."""
    events = int(rate * (before + outage + after))
    out = f"{WORK}/outage.json"
    spool = f"{WORK}/outage-spool"
    conf = f"{WORK}/outage.conf"
    shutil.rmtree(spool, ignore_errors=True)
    if os.path.exists(out):
        os.unlink(out)
    certs = make_certificates()
    collector = RsyslogSink("rsyslog-relptls")
    with open(conf, "w") as f:
        f.write("backlog_limit = 8192\nbacklog_wait_time = 0\nsocket_buffer = 64M\n"
                f"output.bench.type = file\noutput.bench.path = {out}\noutput.bench.flush = none\n"
                f"output.net.type = relp\noutput.net.address = 127.0.0.1:{collector.port}\n"
                f"output.net.tls_ca = {certs['ca.pem']}\noutput.net.tls_cert = {certs['client.pem']}\n"
                f"output.net.tls_key = {certs['client.key']}\noutput.net.spool_dir = {spool}\n"
                f"output.net.spool_max_size = 8G\noutput.net.queue_size = {queue_size}\n")
    os.chmod(conf, 0o600)
    status = StatusListener(f"{WORK}/outage-notify.sock")
    daemon = Daemon("outage", [tools["swift-audit"], "run", "--config", conf, "--log-level", "warning"], output=out,
                    env={"NOTIFY_SOCKET": status.path})
    sh("auditctl", "-D")
    sh("auditctl", "-b", "8192")
    sh("auditctl", "--backlog_wait_time", "0")
    sh("auditctl", "--reset-lost")
    sh("auditctl", "-e", "1")
    os.sync()
    load = None
    try:
        daemon.start()
        sh("auditctl", "-a", "always,exit", "-F", "arch=b64", "-S", "getppid", "-F", f"a0=0x{MAGIC}", "-k", "bench")
        time.sleep(0.5)
        pid = daemon.proc.pid
        cpu0, lost0 = proc_cpu_seconds(pid), status_int("lost")
        t0 = time.monotonic()
        load = subprocess.Popen([tools["loadgen"], "-n", str(events), "-w", "2", "-r", str(rate)],
                                stdout=subprocess.PIPE, text=True)
        peak, down_at, back_at, empty_at = 0, None, None, None
        while True:
            now = time.monotonic() - t0
            size = spool_bytes(spool)
            peak = max(peak, size)
            if down_at is None and now >= before:
                collector.kill()
                down_at = now
            elif down_at is not None and back_at is None and now >= before + outage:
                collector.start()
                back_at = now
            elif back_at is not None and size == 0 and empty_at is None:
                empty_at = now
            if empty_at is not None and load.poll() is not None:
                break
            if back_at is not None and now - back_at > 300:
                break  # never caught up: reported as such
            time.sleep(0.1)
        load_out, _ = load.communicate(timeout=60)
        # Drained: backlog empty and the file unchanged for 1 s (at most DRAIN_LIMIT s).
        last_marker, last_change, load_end = None, time.monotonic(), time.monotonic()
        while True:
            marker = (os.path.getsize(out) if os.path.exists(out) else 0, status_int("backlog"), spool_bytes(spool))
            if marker != last_marker:
                last_marker, last_change = marker, time.monotonic()
            if marker[1] == 0 and marker[2] == 0 and (time.monotonic() - last_change > 1.0 or time.monotonic() - load_end > DRAIN_LIMIT):
                break
            time.sleep(0.05)
        cpu = proc_cpu_seconds(pid) - cpu0
        lost = status_int("lost") - lost0
        sh("auditctl", "-D")
    finally:
        if load and load.poll() is None:
            load.kill()
            load.wait()
        if daemon.proc:
            daemon.stop()
        status.close()
        collector.close()
    delivered = count_lines(out)
    return {
        "daemon": "swift-audit+relptls+spool", "scenario": "outage20k", "rate": rate, "queue_size": queue_size, "generated": events, "delivered": delivered,
        "loadgen_eps": float(re.search(r"rate_eps=([\d.]+)", load_out).group(1)), "kernel_lost": lost,
        "collector": collector.count, "collector_lines": collector.total, "lost": events - collector.count,
        "outage_s": round(back_at - down_at, 1) if back_at is not None else None,
        "spool_peak_mb": peak / 1e6, "spool_peak_events": status.peak_events,
        "catch_up_s": round(empty_at - back_at, 1) if empty_at is not None else None,
        "cpu_per_100k": cpu * 100000 / max(1, delivered),
    }


def print_outage_table(results):
    runs = [r for r in results if r["scenario"] == "outage20k"]
    if not runs:
        return
    print("\ncollector outage: RELP over TLS with a disk spool beside the file output, its rsyslogd SIGKILLed and "
          "restarted; lost = generated - distinct events the collector wrote")
    print("| rep | events/s | queue_size | generated | file | kernel lost | collector (distinct) | duplicates | lost | outage s | "
          "spool peak MB | spool peak events (STATUS=) | catch-up s | CPU s/100k |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in runs:
        catch = "never" if r["catch_up_s"] is None else f"{r['catch_up_s']:.1f}"
        print(f"| {r['rep']} | {r['rate']} | {r['queue_size']} | {r['generated']} | {r['delivered']} | {r['kernel_lost']} | {r['collector']} | "
              f"{r['collector_lines'] - r['collector']} | {r['lost']} | {r['outage_s']} | {r['spool_peak_mb']:.1f} | "
              f"{r['spool_peak_events']} | {catch} | {r['cpu_per_100k']:.2f} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200000, help="events per run (default 200000)")
    parser.add_argument("--reps", type=int, default=1, help="repetitions; the table shows medians")
    parser.add_argument(
        "--daemons", default="swift-audit,barereader,auditd",
        help="any of swift-audit, barereader, barewriter (the bare reader writing raw records to a file), auditd, "
        "swift-audit+syslog, swift-audit+gelf, swift-audit+deadgelf")
    parser.add_argument("--scenarios", default="backpressure,steady20k,burst-w1,burst-w2,burst-w4,exec1000,exec2000,forkstorm,outage20k")
    parser.add_argument("--outage-seconds", type=float, default=30,
                        help="outage20k: how long the collector is down (default 30)")
    parser.add_argument("--outage-before", type=float, default=5,
                        help="outage20k: seconds of load before the collector goes down (default 5)")
    parser.add_argument("--outage-after", type=float, default=15,
                        help="outage20k: seconds of load after it is back (default 15)")
    parser.add_argument("--outage-rate", type=int, default=OUTAGE_RATE,
                        help=f"outage20k: events per second (default {OUTAGE_RATE})")
    parser.add_argument("--outage-queue-size", type=int, default=8192,
                        help="outage20k: the RELP output's queue_size (default 8192, the daemon's default)")
    parser.add_argument("--exec-daemons", default=",".join(EXEC_DAEMONS),
                        help="the setups of the exec scenarios: any of " + ", ".join(EXEC_DAEMONS))
    parser.add_argument("--exec-seconds", type=float, default=10,
                        help="length of each exec run: it starts rate × this many programs (default 10)")
    parser.add_argument("--storm-seconds", type=float, default=60,
                        help="length of each fork-storm run (default 60)")
    parser.add_argument("--storm-setups", default=",".join(STORM_SETUPS),
                        help="the setups of the forkstorm scenario: any of " + ", ".join(STORM_SETUPS))
    parser.add_argument("--tools", required=True,
                        help="directory with swift-audit, loadgen, barereader, latprobe, execgen, forkstorm")
    parser.add_argument("--json", help="also write every run as JSON lines here")
    parser.add_argument(
        "--network", default="swift-audit+syslog,swift-audit+gelf,swift-audit+deadgelf,swift-audit+tls,swift-audit+relp,"
        "swift-audit+relptls",
        help="swift-audit variants with a network output beside the file, run in the steady20k scenario ('' for none): "
        + ", ".join(n for n in NETWORK_VARIANTS if n != "swift-audit"))
    args = parser.parse_args()
    global EXEC_SECONDS
    EXEC_SECONDS = args.exec_seconds
    storm_names = [n for n in args.storm_setups.split(",") if n]
    unknown = [n for n in storm_names if n not in STORM_SETUPS]
    if unknown:
        sys.exit(f"unknown --storm-setups: {', '.join(unknown)}")
    if os.geteuid() != 0:
        sys.exit("make bench needs root (it registers audit daemons and loads rules)")
    # A SIGTERM ends the run through the `finally` below: daemons stopped, kernel state restored.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    tools = {name: os.path.join(args.tools, name) for name in ("swift-audit", "loadgen", "barereader", "latprobe", "execgen", "forkstorm")}
    selected = args.daemons.split(",")
    exec_names = [n for n in args.exec_daemons.split(",") if n]
    if not os.path.exists("/sbin/auditd"):
        print("auditd is not installed (make test-deps installs it); leaving it out", file=sys.stderr)
        selected = [n for n in selected if n != "auditd"]
        exec_names = [n for n in exec_names if not n.startswith("auditd")]
    if "auditd+laurel" in exec_names and not os.path.exists("/usr/sbin/laurel"):
        print("laurel is not installed (apt-get install laurel); leaving auditd+laurel out", file=sys.stderr)
        exec_names.remove("auditd+laurel")
    network_names = [n for n in args.network.split(",") if n]
    unknown = [n for n in network_names if n not in NETWORK_VARIANTS or n == "swift-audit"]
    if unknown:
        sys.exit(f"unknown --network: {', '.join(unknown)}")
    for name in list(network_names):
        kind = NETWORK_VARIANTS[name][0]
        if kind.startswith("rsyslog-") and not rsyslog_available(kind):
            print(f"rsyslogd with its {kind[8:]} input or openssl is not installed (make test-deps); leaving {name} out",
                  file=sys.stderr)
            network_names.remove(name)
    scenario_list = [n for n in args.scenarios.split(",") if n]
    if "outage20k" in scenario_list and not rsyslog_available("rsyslog-relptls"):
        print("rsyslogd with imrelp or openssl is not installed (make test-deps); leaving outage20k out", file=sys.stderr)
        scenario_list.remove("outage20k")
    args.network = ",".join(network_names)
    args.scenarios = ",".join(scenario_list)
    lock = os.fdopen(os.open(KERNEL_LOCK, os.O_CREAT | os.O_RDWR, 0o600), "r+")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print(f"waiting for {KERNEL_LOCK} (a kernel test is running)", file=sys.stderr)
        fcntl.flock(lock, fcntl.LOCK_EX)
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
    scenario_names = [n for n in args.scenarios.split(",") if n]
    exec_rates = [int(n[4:]) for n in scenario_names if re.fullmatch(r"exec\d+", n)]
    results = []
    try:
        run_others = any(n in scenarios for n in scenario_names)
        ready = [ready_time_ms(tools) for _ in range(5)] if "swift-audit" in selected and run_others else []
        for name in scenario_names:
            if name not in scenarios:
                continue
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
        kauditd = kauditd_pid() if exec_rates else None
        for rate in exec_rates:
            for rep in range(args.reps):
                names = list(reversed(exec_names)) if rep % 2 == 1 else list(exec_names)
                for name in names:
                    result = run_exec(make_exec_daemon(tools, name), tools, rate, kauditd)
                    result["rep"] = rep
                    results.append(result)
                    print(json.dumps(result), file=sys.stderr, flush=True)
        if "outage20k" in scenario_names:
            for rep in range(args.reps):
                result = run_outage(tools, args.outage_seconds, args.outage_before, args.outage_after, args.outage_rate,
                                    args.outage_queue_size)
                result["rep"] = rep
                results.append(result)
                print(json.dumps(result), file=sys.stderr, flush=True)
        if "forkstorm" in scenario_names:
            for rep in range(args.reps):
                for name in (list(reversed(storm_names)) if rep % 2 == 1 else storm_names):
                    result = run_storm(name, tools, args.storm_seconds)
                    result["rep"] = rep
                    results.append(result)
                    brief = {k: v for k, v in result.items() if k != "rss_timeline"}
                    print(json.dumps(brief), file=sys.stderr, flush=True)
    finally:
        for daemon in list(RUNNING):
            daemon.stop()
        for collector_process in list(COLLECTORS):
            collector_process.kill()
        sh("auditctl", "-D", check=False)
        sh("auditctl", "-b", before["backlog_limit"], check=False)
        sh("auditctl", "--backlog_wait_time", before["backlog_wait_time"], check=False)
        sh("auditctl", "-r", before["rate_limit"], check=False)
        sh("auditctl", "-e", before["enabled"].split()[0], check=False)
        fcntl.flock(lock, fcntl.LOCK_UN)
        lock.close()
    if args.json:
        with open(args.json, "w") as f:
            for r in results:
                f.write(json.dumps(r) + "\n")
    print(f"\nswift-audit benchmark: {args.events} events per run, {args.reps} rep(s), medians; kernel {os.uname().release}, {os.cpu_count()} CPUs")
    if ready:
        print(f"READY=1 after start: median {statistics.median(ready):.1f} ms (5 starts)\n")
    if any(n in scenarios for n in scenario_names):
        print("| scenario | daemon | delivered | lost % | events/s | CPU s/100k | peak RSS MiB | p50 ms | p99 ms | collector |")
        print("|---|---|---|---|---|---|---|---|---|---|")
    for name in [n for n in scenario_names if n in scenarios]:
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
    if exec_rates:
        print_exec_table(results, exec_rates, exec_names)
    print_storm_table(results)
    print_outage_table(results)


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
