/// Rule files written for the round trip against auditctl: together they cover the parts of the
/// language the real-world sets use little or not at all. Paths are rewritten under a scratch root
/// before loading (see ``RuleFileRewriter``). swift-audit's extensions that auditctl 3.0.9 rejects
/// (`-F loginuid_set=`, quoted paths) are in ``extensions``, checked apart.
enum HandWrittenRules {
    static let files: [(name: String, text: String)] = [
        (
            "syscalls.rules",
            """
            -D
            # -S all, several -S, numbers, both ABIs
            -a always,exit -S all -F pid=1 -k all-syscalls
            -a always,exit -F arch=b64 -S open,openat -S creat -S truncate,ftruncate -F exit=-EACCES -F auid>=1000 -F auid!=unset -k access
            -a always,exit -F arch=b32 -S open,openat -S creat -F exit=-EPERM -F auid>=1000 -F auid!=4294967295 -k access32
            -a always,exit -F arch=b64 -S 59 -F success=1 -k numbered
            -a always,exit -F arch=b64 -S all -F auid=0 -F success=0 -k failed-root
            -a never,exit -F arch=b64 -S rt_sigreturn
            -a exit,always -F arch=b64 -S mount,umount2 -F uid=root -F gid=root -F euid=0 -F egid!=1 -k mount
            -a always,exit -F arch=b64 -S unlink,unlinkat -F ppid=1 -F pers=0 -F auid>=1000 -k delete
            -a always,exit -F arch=b64 -S kill -F a1=9 -F a0>0 -F a0<=65535 -k kill
            -a always,exit -F arch=b64 -S ptrace -F a0&0x4 -k ptrace
            -a always,exit -F arch=b64 -S connect -F a2>=16 -F saddr_fam=2 -k connect4
            -a always,exit -F arch=b64 -S setuid -F a0!=0 -F sessionid>=1 -F suid=0 -F fsuid=0 -k setuid
            -a always,exit -F arch=b64 -S chmod -F sgid=0 -F fsgid=0 -F uid=daemon -F gid=daemon -k owners
            -a always,exit -F arch=b64 -S execve -F auid!=unset -F exit=-ENOENT -k exec-missing
            """
        ),
        (
            "comparisons.rules",
            """
            -a always,exit -F arch=b64 -S execve -C uid!=euid -F euid=0 -k setuid-exec
            -a always,exit -F arch=b64 -S execve -C auid!=uid -C gid=egid -k compare
            -a always,exit -F arch=b64 -S openat -C obj_uid!=uid -C obj_gid=gid -k obj
            -a always,exit -F arch=b64 -S open -C fsuid=suid -C sgid!=fsgid -C auid=obj_uid -k more
            -a always,exit -F arch=b32 -S execve -C uid!=euid -F euid=0 -k setuid-exec32
            """
        ),
        (
            "lists.rules",
            """
            -a never,exclude -F msgtype=CWD
            -a never,exclude -F msgtype=PROCTITLE -F auid=1000
            -a never,exclude -F msgtype>=1400 -F msgtype<=1499
            -a always,exclude -F msgtype=EOE
            -a never,user -F uid=0 -F msgtype=USER_START
            -a always,user -F auid>=1000 -F auid!=unset
            -a never,task -F uid=daemon
            -a always,task -F gid=0 -F euid!=0
            -a never,filesystem -F fstype=tracefs
            -a never,filesystem -F fstype=debugfs -k fs
            -A never,exit -F arch=b64 -S getppid -k first
            -A always,exit -F arch=b64 -S getpid -k before-first
            """
        ),
        (
            "watches.rules",
            """
            -w /etc/passwd -p wa -k identity
            -w /etc/group -p rwxa -k identity -k group
            -w /etc/ -p wa -k etc-dir
            -w /var/log/audit -k audit-log
            -w /etc/hosts -p w
            -a always,exit -F path=/etc/shadow -F perm=r -k shadow
            -a always,exit -F dir=/var/log -F perm=wa -k logs
            -a always,exit -F path=/usr/bin/sudo -F perm=x -F auid>=1000 -F auid!=unset -k priv
            -a always,exit -F arch=b64 -S openat -F dir=/tmp -F filetype=file -k tmp-files
            -a always,exit -F arch=b64 -S openat,open -F exe=/usr/bin/python3 -k python
            -a always,exit -F arch=b64 -S execve -F exe=/usr/bin/bash -F key=shell -F key=exec
            -a always,exit -F arch=b64 -S open -F path=/etc/sudoers -F perm=wa -k sudoers
            -w /etc/with\\ space -p wa -k spaced
            """
        ),
        (
            "deletions.rules",
            """
            -a always,exit -F arch=b64 -S chmod -k d1
            -a always,exit -F arch=b64 -S chown -k d2
            -a always,exit -F arch=b64 -S fchown -k keep-d2
            -a always,exit -F arch=b64 -S fchmod -k keep
            -d always,exit -F arch=b64 -S chmod -k d1
            -w /etc/group -p wa -k g
            -w /etc/gshadow -p wa -k g2
            -W /etc/group -p wa -k g
            -D -k d2
            -a exit,always -F arch=b64 -S chmod -k d1-again
            """
        ),
        (
            "control.rules",
            """
            -D
            -b 8193
            -r 100
            --backlog_wait_time 60001
            -f 1
            -f 0
            -e 0
            --reset-lost
            -a always,exit -F arch=b64 -S getppid -F a0=0x7e57b00c -k control
            """
        ),
    ]

    /// Lines swift-audit accepts and auditctl 3.0.9 does not (its field table lacks loginuid_set; it
    /// takes quotes literally), though the kernel does: loaded by swift-audit, `auditctl -l` must
    /// still print them as swift-audit's listing does.
    static let extensions = """
        -a always,exit -F arch=b64 -S unlink,unlinkat -F loginuid_set=1 -k ext-loginuid-set
        -a always,exit -F arch=b64 -S rmdir -F loginuid_set=0 -F auid=0
        -w "/etc/quoted dir/file" -p wa -k ext-quoted
        -a always,exit -F path='/etc/single quoted' -F perm=r -k ext-single
        """
}
