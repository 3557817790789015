#!/usr/bin/env python3
"""Builds the audit.log inputs of the offline benchmark (Benchmarks/offline.sh) from the corpus.

  mklogs.py CORPUS_DIR OUT_DIR [MB]

CORPUS_DIR holds auditd ENRICHED logs (*.audit.log, ../shared/corpus/local). The base is all of them
in the order of their timestamps; each log is copies of it until it has about MB megabytes (default
100), every copy moved later in time by the base's span plus a second and its events renumbered
from one counter, so that every event of the log stays distinct and time only moves forward.

  corpus.log    the copies as they are. The exec scenario's 12 000-byte argument (a1_len= and four
                EXECVE records of hex parts) makes 9 % of the bytes
  plain.log     the same without that event: no long argument at all
  hex1k.log, hex10k.log, hex100k.log
                plain.log plus execve events of /bin/true with one argument of 1, 10 or 100 KiB,
                a tenth of the log's bytes being the arguments' hex. The events are shaped like
                the corpus's own: the kernel hex-encodes an argument with a space in it, writes
                one longer than its 7500-byte record budget as a1_len= plus a1[0]=, a1[1]=, …
                parts over several EXECVE records, and keeps 128 bytes of it in PROCTITLE
Each file is written only if it does not exist yet: the content depends on nothing but the corpus.
"""
import glob
import os
import re
import sys

HEADER = re.compile(rb"msg=audit\((\d+)\.(\d{3}):(\d+)\)")
LONG_ARG_SERIAL = b":27932957)"  # exec.audit.log: /bin/true with a 12 000-byte argument
PHRASE = b'printf "%s\\n" quick brown fox; '  # the argument's content: spaces make the kernel use hex
PART = 7492  # hex characters per a1[i]= part (7464 in the first record), as in the corpus


def base(corpus):
    logs = []
    for path in glob.glob(os.path.join(corpus, "*.audit.log")):
        with open(path, "rb") as f:
            lines = f.read().splitlines()
        logs.append((min(int(m.group(1)) for m in map(HEADER.search, lines) if m), lines))
    return [line for _, lines in sorted(logs) for line in lines]


def long_arg_event(size, sec, ms, serial, gs=b"\x1d"):
    """One execve event of `/bin/true ARG` with len(ARG) == size, as auditd's ENRICHED log has it."""
    arg = (PHRASE * (size // len(PHRASE) + 1))[:size]
    hexarg = arg.hex().upper().encode()
    head = b"type=%s msg=audit(%d.%03d:%d): "
    stamp = (sec, ms, serial)
    lines = [
        head % ((b"SYSCALL",) + stamp) + b"arch=c000003e syscall=59 success=yes exit=0 a0=5595ad2c1750 "
        b"a1=5595ad2c57b0 a2=5595ad2c50e0 a3=4a8ae29fc422d538 items=2 ppid=26019 pid=26030 auid=1000 uid=0 gid=0 "
        b"euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=3 comm=\"true\" exe=\"/usr/bin/true\" "
        b"key=\"exec\"" + gs + b"ARCH=x86_64 SYSCALL=execve AUID=\"cloudsdk\" UID=\"root\" GID=\"root\" EUID=\"root\" "
        b"SUID=\"root\" FSUID=\"root\" EGID=\"root\" SGID=\"root\" FSGID=\"root\"",
        head % ((b"BPRM_FCAPS",) + stamp) + b"fver=0 fp=0 fi=0 fe=0 old_pp=000001fffeffffff old_pi=0 "
        b"old_pe=000001fffeffffff old_pa=0 pp=000001fffeffffff pi=0 pe=000001fffeffffff pa=0 frootid=0",
    ]
    if len(hexarg) <= 7464:
        lines.append(head % ((b"EXECVE",) + stamp) + b'argc=2 a0="/bin/true" a1=' + hexarg)
    else:
        parts = [hexarg[:7464]] + [hexarg[i:i + PART] for i in range(7464, len(hexarg), PART)]
        lines.append(head % ((b"EXECVE",) + stamp) + b'argc=2 a0="/bin/true" a1_len=%d a1[0]=%s' % (len(hexarg), parts[0]))
        lines += [head % ((b"EXECVE",) + stamp) + b" a1[%d]=%s" % (i, p) for i, p in enumerate(parts[1:], 1)]
    lines += [
        head % ((b"CWD",) + stamp) + b'cwd="/srv/audit-lab/bench"',
        head % ((b"PATH",) + stamp) + b'item=0 name="/bin/true" inode=254734 dev=fe:00 mode=0100755 ouid=0 ogid=0 '
        b"rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0" + gs + b'OUID="root" OGID="root"',
        head % ((b"PATH",) + stamp) + b'item=1 name="/lib64/ld-linux-x86-64.so.2" inode=332717 dev=fe:00 mode=0100755 '
        b"ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0" + gs
        + b'OUID="root" OGID="root"',
        head % ((b"PROCTITLE",) + stamp) + b"proctitle=" + (b"/bin/true\0" + arg)[:128].hex().upper().encode(),
    ]
    return lines, len(hexarg)


def write(path, lines, target, extra_size=0):
    """Copies of `lines` to about `target` bytes; with extra_size, execve events with an argument of
    that many bytes after each copy, so that the arguments' hex is a tenth of the file."""
    if os.path.exists(path):
        return
    stamps = [HEADER.search(line) for line in lines]
    first = min(int(m.group(1)) for m in stamps if m)
    span = max(int(m.group(1)) for m in stamps if m) - first + 2  # the extra events use the last second
    serial, written, hex_written, copy = 0, 0, 0, 0
    with open(path + ".tmp", "wb") as out:
        while written < target:
            renumber = {}
            chunk = []
            for line, m in zip(lines, stamps):
                if not m:
                    chunk.append(line)
                    continue
                key = m.group(3)
                if key not in renumber:
                    serial += 1
                    renumber[key] = serial
                sec = int(m.group(1)) - first + 1_800_000_000 + copy * span
                chunk.append(line[:m.start()] + b"msg=audit(%d.%s:%d)" % (sec, m.group(2), renumber[key]) + line[m.end():])
            data = b"\n".join(chunk) + b"\n"
            out.write(data)
            written += len(data)
            if extra_size:
                end = 1_800_000_000 + copy * span + span - 1
                n = 0
                while hex_written < 0.1 * written:
                    serial += 1
                    event, hex_len = long_arg_event(extra_size, end, n % 1000, serial)
                    data = b"\n".join(event) + b"\n"
                    out.write(data)
                    written += len(data)
                    hex_written += hex_len
                    n += 1
            copy += 1
    os.rename(path + ".tmp", path)
    print(f"{path}: {written / 1e6:.1f} MB, {copy} copies, {serial} events"
          + (f", argument hex {100 * hex_written / written:.1f} % of the bytes" if extra_size else ""), file=sys.stderr)


def main():
    corpus, out = sys.argv[1], sys.argv[2]
    target = int(float(sys.argv[3]) * 1e6) if len(sys.argv) > 3 else 100_000_000
    os.makedirs(out, exist_ok=True)
    lines = base(corpus)
    write(os.path.join(out, "corpus.log"), lines, target)
    plain = [line for line in lines if LONG_ARG_SERIAL not in line]
    write(os.path.join(out, "plain.log"), plain, target)
    for name, size in (("hex1k", 1024), ("hex10k", 10240), ("hex100k", 102400)):
        write(os.path.join(out, f"{name}.log"), plain, target, size)


if __name__ == "__main__":
    main()
