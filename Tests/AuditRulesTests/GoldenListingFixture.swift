// swift-format-ignore-file
// Generated with the real auditctl 3.0.9 on an x86_64 host (see the AuditRules report): for
// every rule blob of the go-libaudit golden files (../shared/corpus/go-libaudit/rule-testdata),
// the line `auditctl -l` printed for it. Format: <yml file> TAB <index> TAB <listing>.

let goldenListingFixture = #"""
01-file-watch-spaces.rules.golden.yml	0	-w /tmp/audit-test/folder with space -p wa -k path-double-quoted
01-file-watch-spaces.rules.golden.yml	1	-w /tmp/audit-test/folder with space -p wa -k path-single-quoted
20-dont-audit.rules.golden.yml	0	-a never,user -F subj_type=crond_t
20-dont-audit.rules.golden.yml	1	-a never,exit -F arch=b64 -S adjtimex -F auid=-1 -F uid=20 -F subj_type=chronyd_t
20-dont-audit.rules.golden.yml	2	-a always,exclude -F msgtype=CRYPTO_KEY_USER
20-dont-audit.rules.golden.yml	3	-a always,exclude -F exe=/bin/ls
22-ignore-chrony.rules.golden.yml	0	-a never,exit -F arch=b64 -S adjtimex -F auid=-1 -F uid=20 -F subj_type=chronyd_t
22-ignore-chrony.rules.golden.yml	1	-a never,exit -F arch=b32 -S adjtimex -F auid=-1 -F uid=20 -F subj_type=chronyd_t
30-nispom.rules.golden.yml	0	-a always,exit -F arch=b32 -S stime,settimeofday,adjtimex -F key=time-change
30-nispom.rules.golden.yml	1	-a always,exit -F arch=b64 -S adjtimex,settimeofday -F key=time-change
30-nispom.rules.golden.yml	2	-a always,exit -F arch=b32 -S clock_settime -F a0=0x0 -F key=time-change
30-nispom.rules.golden.yml	3	-a always,exit -F arch=b64 -S clock_settime -F a0=0x0 -F key=time-change
30-nispom.rules.golden.yml	4	-w /tmp/audit-test/etc/localtime -p wa -k time-change
30-nispom.rules.golden.yml	5	-a always,exit -F arch=b32 -S sethostname,setdomainname -F key=system-locale
30-nispom.rules.golden.yml	6	-a always,exit -F arch=b64 -S sethostname,setdomainname -F key=system-locale
30-nispom.rules.golden.yml	7	-w /tmp/audit-test/etc/issue -p wa -k system-locale
30-nispom.rules.golden.yml	8	-w /tmp/audit-test/etc/issue.net -p wa -k system-locale
30-nispom.rules.golden.yml	9	-w /tmp/audit-test/etc/hosts -p wa -k system-locale
30-nispom.rules.golden.yml	10	-w /tmp/audit-test/etc/hostname -p wa -k system-locale
30-nispom.rules.golden.yml	11	-a always,exit -F arch=b32 -S creat,link,mknod,mkdir,symlink,mknodat,linkat,symlinkat -F exit=-EACCES -F key=creation
30-nispom.rules.golden.yml	12	-a always,exit -F arch=b64 -S mkdir,creat,link,symlink,mknod,mknodat,linkat,symlinkat -F exit=-EACCES -F key=creation
30-nispom.rules.golden.yml	13	-a always,exit -F arch=b32 -S link,mkdir,symlink,mkdirat -F exit=-EPERM -F key=creation
30-nispom.rules.golden.yml	14	-a always,exit -F arch=b64 -S mkdir,link,symlink,mkdirat -F exit=-EPERM -F key=creation
30-nispom.rules.golden.yml	15	-a always,exit -F arch=b32 -S open,openat,open_by_handle_at -F exit=-EACCES -F key=open
30-nispom.rules.golden.yml	16	-a always,exit -F arch=b64 -S open,openat,open_by_handle_at -F exit=-EACCES -F key=open
30-nispom.rules.golden.yml	17	-a always,exit -F arch=b32 -S open,openat,open_by_handle_at -F exit=-EPERM -F key=open
30-nispom.rules.golden.yml	18	-a always,exit -F arch=b64 -S open,openat,open_by_handle_at -F exit=-EPERM -F key=open
30-nispom.rules.golden.yml	19	-a always,exit -F arch=b32 -S close -F exit=-EIO -F key=close
30-nispom.rules.golden.yml	20	-a always,exit -F arch=b64 -S close -F exit=-EIO -F key=close
30-nispom.rules.golden.yml	21	-a always,exit -F arch=b32 -S chmod,rename,truncate,setxattr,lsetxattr,removexattr,lremovexattr,renameat -F exit=-EACCES -F key=mods
30-nispom.rules.golden.yml	22	-a always,exit -F arch=b64 -S truncate,rename,chmod,setxattr,lsetxattr,removexattr,lremovexattr,renameat -F exit=-EACCES -F key=mods
30-nispom.rules.golden.yml	23	-a always,exit -F arch=b32 -S chmod,rename,truncate,setxattr,lsetxattr,removexattr,lremovexattr,renameat -F exit=-EPERM -F key=mods
30-nispom.rules.golden.yml	24	-a always,exit -F arch=b64 -S truncate,rename,chmod,setxattr,lsetxattr,removexattr,lremovexattr,renameat -F exit=-EPERM -F key=mods
30-nispom.rules.golden.yml	25	-a always,exit -F arch=b32 -S unlink,rmdir,unlinkat -F exit=-EACCES -F key=delete
30-nispom.rules.golden.yml	26	-a always,exit -F arch=b64 -S rmdir,unlink,unlinkat -F exit=-EACCES -F key=delete
30-nispom.rules.golden.yml	27	-a always,exit -F arch=b32 -S unlink,rmdir,unlinkat -F exit=-EPERM -F key=delete
30-nispom.rules.golden.yml	28	-a always,exit -F arch=b64 -S rmdir,unlink,unlinkat -F exit=-EPERM -F key=delete
30-nispom.rules.golden.yml	29	-w /tmp/audit-test/etc/group -p wa -k auth
30-nispom.rules.golden.yml	30	-w /tmp/audit-test/etc/passwd -p wa -k auth
30-nispom.rules.golden.yml	31	-w /tmp/audit-test/etc/gshadow -p wa -k auth
30-nispom.rules.golden.yml	32	-w /tmp/audit-test/etc/shadow -p wa -k auth
30-nispom.rules.golden.yml	33	-w /tmp/audit-test/etc/security/opasswd -p wa -k auth
30-nispom.rules.golden.yml	34	-w /tmp/audit-test/var/log/audit -p rwxa -k audit-logs
30-pci-dss-v31.rules.golden.yml	0	-a always,exit -S all -F dir=/tmp/audit-test/var/log/audit/ -F perm=r -F auid>=1000 -F auid!=-1 -F key=10.2.3-access-audit-trail
30-pci-dss-v31.rules.golden.yml	1	-w /tmp/audit-test/usr/sbin/ausearch -p x -k 10.2.3-access-audit-trail
30-pci-dss-v31.rules.golden.yml	2	-w /tmp/audit-test/usr/sbin/aureport -p x -k 10.2.3-access-audit-trail
30-pci-dss-v31.rules.golden.yml	3	-w /tmp/audit-test/usr/sbin/aulast -p x -k 10.2.3-access-audit-trail
30-pci-dss-v31.rules.golden.yml	4	-w /tmp/audit-test/usr/sbin/aulastlogin -p x -k 10.2.3-access-audit-trail
30-pci-dss-v31.rules.golden.yml	5	-w /tmp/audit-test/usr/sbin/auvirt -p x -k 10.2.3-access-audit-trail
30-pci-dss-v31.rules.golden.yml	6	-a always,exit -F arch=b64 -S setuid -F a0=0x0 -F exe=/usr/bin/su -F key=10.2.5.b-elevated-privs-session
30-pci-dss-v31.rules.golden.yml	7	-a always,exit -F arch=b32 -S setuid -F a0=0x0 -F exe=/usr/bin/su -F key=10.2.5.b-elevated-privs-session
30-pci-dss-v31.rules.golden.yml	8	-a always,exit -F arch=b64 -S setresuid -F a0=0x0 -F exe=/usr/bin/sudo -F key=10.2.5.b-elevated-privs-session
30-pci-dss-v31.rules.golden.yml	9	-a always,exit -F arch=b32 -S setresuid -F a0=0x0 -F exe=/usr/bin/sudo -F key=10.2.5.b-elevated-privs-session
30-pci-dss-v31.rules.golden.yml	10	-a always,exit -F arch=b64 -S execve -C uid!=euid -F euid=0 -F key=10.2.5.b-elevated-privs-setuid
30-pci-dss-v31.rules.golden.yml	11	-a always,exit -F arch=b32 -S execve -C uid!=euid -F euid=0 -F key=10.2.5.b-elevated-privs-setuid
30-pci-dss-v31.rules.golden.yml	12	-w /tmp/audit-test/etc/group -p wa -k 10.2.5.c-accounts
30-pci-dss-v31.rules.golden.yml	13	-w /tmp/audit-test/etc/passwd -p wa -k 10.2.5.c-accounts
30-pci-dss-v31.rules.golden.yml	14	-w /tmp/audit-test/etc/gshadow -p wa -k 10.2.5.c-accounts
30-pci-dss-v31.rules.golden.yml	15	-w /tmp/audit-test/etc/shadow -p wa -k 10.2.5.c-accounts
30-pci-dss-v31.rules.golden.yml	16	-w /tmp/audit-test/etc/security/opasswd -p wa -k 10.2.5.c-accounts
30-pci-dss-v31.rules.golden.yml	17	-a always,exit -F arch=b32 -S stime,settimeofday,adjtimex -F key=10.4.2b-time-change
30-pci-dss-v31.rules.golden.yml	18	-a always,exit -F arch=b64 -S adjtimex,settimeofday -F key=10.4.2b-time-change
30-pci-dss-v31.rules.golden.yml	19	-a always,exit -F arch=b32 -S clock_settime -F a0=0x0 -F key=10.4.2b-time-change
30-pci-dss-v31.rules.golden.yml	20	-a always,exit -F arch=b64 -S clock_settime -F a0=0x0 -F key=10.4.2b-time-change
30-pci-dss-v31.rules.golden.yml	21	-w /tmp/audit-test/etc/localtime -p wa -k 10.4.2b-time-change
30-pci-dss-v31.rules.golden.yml	22	-w /tmp/audit-test/var/log/audit/ -p wa -k 10.5.5-modification-audit
30-stig.rules.golden.yml	0	-a always,exit -F arch=b32 -S stime,settimeofday,adjtimex -F key=time-change
30-stig.rules.golden.yml	1	-a always,exit -F arch=b64 -S adjtimex,settimeofday -F key=time-change
30-stig.rules.golden.yml	2	-a always,exit -F arch=b32 -S clock_settime -F a0=0x0 -F key=time-change
30-stig.rules.golden.yml	3	-a always,exit -F arch=b64 -S clock_settime -F a0=0x0 -F key=time-change
30-stig.rules.golden.yml	4	-w /tmp/audit-test/etc/localtime -p wa -k time-change
30-stig.rules.golden.yml	5	-w /tmp/audit-test/etc/group -p wa -k identity
30-stig.rules.golden.yml	6	-w /tmp/audit-test/etc/passwd -p wa -k identity
30-stig.rules.golden.yml	7	-w /tmp/audit-test/etc/gshadow -p wa -k identity
30-stig.rules.golden.yml	8	-w /tmp/audit-test/etc/shadow -p wa -k identity
30-stig.rules.golden.yml	9	-w /tmp/audit-test/etc/security/opasswd -p wa -k identity
30-stig.rules.golden.yml	10	-a always,exit -F arch=b32 -S sethostname,setdomainname -F key=system-locale
30-stig.rules.golden.yml	11	-a always,exit -F arch=b64 -S sethostname,setdomainname -F key=system-locale
30-stig.rules.golden.yml	12	-w /tmp/audit-test/etc/issue -p wa -k system-locale
30-stig.rules.golden.yml	13	-w /tmp/audit-test/etc/issue.net -p wa -k system-locale
30-stig.rules.golden.yml	14	-w /tmp/audit-test/etc/hosts -p wa -k system-locale
30-stig.rules.golden.yml	15	-w /tmp/audit-test/etc/hostname -p wa -k system-locale
30-stig.rules.golden.yml	16	-w /tmp/audit-test/etc/selinux/ -p wa -k MAC-policy
30-stig.rules.golden.yml	17	-a always,exit -F arch=b32 -S chmod,fchmod,fchmodat -F auid>=1000 -F auid!=-1 -F key=perm_mod
30-stig.rules.golden.yml	18	-a always,exit -F arch=b64 -S chmod,fchmod,fchmodat -F auid>=1000 -F auid!=-1 -F key=perm_mod
30-stig.rules.golden.yml	19	-a always,exit -F arch=b32 -S lchown,fchown,chown,fchownat -F auid>=1000 -F auid!=-1 -F key=perm_mod
30-stig.rules.golden.yml	20	-a always,exit -F arch=b64 -S chown,fchown,lchown,fchownat -F auid>=1000 -F auid!=-1 -F key=perm_mod
30-stig.rules.golden.yml	21	-a always,exit -F arch=b32 -S setxattr,lsetxattr,fsetxattr,removexattr,lremovexattr,fremovexattr -F auid>=1000 -F auid!=-1 -F key=perm_mod
30-stig.rules.golden.yml	22	-a always,exit -F arch=b64 -S setxattr,lsetxattr,fsetxattr,removexattr,lremovexattr,fremovexattr -F auid>=1000 -F auid!=-1 -F key=perm_mod
30-stig.rules.golden.yml	23	-a always,exit -F arch=b32 -S open,creat,truncate,ftruncate,openat,open_by_handle_at -F exit=-EACCES -F auid>=1000 -F auid!=-1 -F key=access
30-stig.rules.golden.yml	24	-a always,exit -F arch=b32 -S open,creat,truncate,ftruncate,openat,open_by_handle_at -F exit=-EPERM -F auid>=1000 -F auid!=-1 -F key=access
30-stig.rules.golden.yml	25	-a always,exit -F arch=b64 -S open,truncate,ftruncate,creat,openat,open_by_handle_at -F exit=-EACCES -F auid>=1000 -F auid!=-1 -F key=access
30-stig.rules.golden.yml	26	-a always,exit -F arch=b64 -S open,truncate,ftruncate,creat,openat,open_by_handle_at -F exit=-EPERM -F auid>=1000 -F auid!=-1 -F key=access
30-stig.rules.golden.yml	27	-a always,exit -F arch=b32 -S mount -F auid>=1000 -F auid!=-1 -F key=export
30-stig.rules.golden.yml	28	-a always,exit -F arch=b64 -S mount -F auid>=1000 -F auid!=-1 -F key=export
30-stig.rules.golden.yml	29	-a always,exit -F arch=b32 -S unlink,rename,unlinkat,renameat -F auid>=1000 -F auid!=-1 -F key=delete
30-stig.rules.golden.yml	30	-a always,exit -F arch=b64 -S rename,unlink,unlinkat,renameat -F auid>=1000 -F auid!=-1 -F key=delete
30-stig.rules.golden.yml	31	-w /tmp/audit-test/etc/sudoers -p wa -k actions
30-stig.rules.golden.yml	32	-w /tmp/audit-test/etc/sudoers.d -p wa -k actions
32-power-abuse.rules.golden.yml	0	-a always,exit -S all -F dir=/tmp/audit-test/home -F uid=0 -F auid>=1000 -F auid!=-1 -C auid!=obj_uid -F key=power-abuse
41-containers.rules.golden.yml	0	-a always,exit -F arch=b32 -S clone -F a0&0x7C020000 -F key=container-create
41-containers.rules.golden.yml	1	-a always,exit -F arch=b64 -S clone -F a0&0x7C020000 -F key=container-create
41-containers.rules.golden.yml	2	-a always,exit -F arch=b32 -S unshare,setns -F key=container-config
41-containers.rules.golden.yml	3	-a always,exit -F arch=b64 -S unshare,setns -F key=container-config
42-injection.rules.golden.yml	0	-a always,exit -F arch=b64 -S ptrace -F key=tracing
42-injection.rules.golden.yml	1	-a always,exit -F arch=b32 -S ptrace -F a0=0x4 -F key=code-injection
42-injection.rules.golden.yml	2	-a always,exit -F arch=b64 -S ptrace -F a0=0x4 -F key=code-injection
42-injection.rules.golden.yml	3	-a always,exit -F arch=b32 -S ptrace -F a0=0x5 -F key=data-injection
42-injection.rules.golden.yml	4	-a always,exit -F arch=b64 -S ptrace -F a0=0x5 -F key=data-injection
42-injection.rules.golden.yml	5	-a always,exit -F arch=b32 -S ptrace -F a0=0x6 -F key=register-injection
42-injection.rules.golden.yml	6	-a always,exit -F arch=b64 -S ptrace -F a0=0x6 -F key=register-injection
43-module-load.rules.golden.yml	0	-w /tmp/audit-test/sbin/insmod -p x -k modules
43-module-load.rules.golden.yml	1	-w /tmp/audit-test/sbin/rmmod -p x -k modules
43-module-load.rules.golden.yml	2	-w /tmp/audit-test/sbin/modprobe -p x -k modules
43-module-load.rules.golden.yml	3	-a always,exit -F arch=b32 -S init_module,finit_module -F key=module-load
43-module-load.rules.golden.yml	4	-a always,exit -F arch=b64 -S init_module,finit_module -F key=module-load
43-module-load.rules.golden.yml	5	-a always,exit -F arch=b32 -S delete_module -F key=module-unload
43-module-load.rules.golden.yml	6	-a always,exit -F arch=b64 -S delete_module -F key=module-unload
70-einval.rules.golden.yml	0	-a never,exit -F arch=b64 -S rt_sigreturn
70-einval.rules.golden.yml	1	-a always,exit -S all -F exit=-EINVAL -F key=einval-retcode
71-networking.rules.golden.yml	0	-a always,exit -F arch=b64 -S connect,accept -F key=external-access
71-networking.rules.golden.yml	1	-a always,exit -F arch=b64 -S connect,accept,bind,listen -F a2=0x10 -F saddr_fam=2 -F success=1 -F key=network-v4
71-networking.rules.golden.yml	2	-a always,exit -F arch=b64 -S connect,accept,bind,listen -F a2=0x18 -F saddr_fam=10 -F success=1 -F key=network-v6
rule_data.yml	0	-a always,exit -S open,truncate -F dir=/etc -F success=0
rule_data.yml	1	-a always,exit -F arch=b64 -S open,truncate -F dir=/etc -F success=0
rule_data.yml	2	-a always,exit -F arch=b64 -S open,truncate -F dir=/etc -F success=0 -F key=read -F key=open
"""#
