#!/bin/sh
# Seeds for RELPResponses: what rsyslog's imrelp (librelp 1.11) sends, recorded on loopback, behind
# the read-size byte (see main.swift). Usage: seeds.sh DIR < file-list (the list is not used).
set -eu
dir=$1
cat > /dev/null
printf '\377999999992 rsp 93 200 OK\nrelp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\ncommands=syslog\n' > "$dir/open.seed"
printf '\003999999992 rsp 6 200 OK\n999999993 rsp 6 200 OK\n999999994 rsp 6 200 OK\n' > "$dir/acks.seed"
printf '\000999999995 rsp 20 500 command disabled\n' > "$dir/refused.seed"
printf '\0207 rsp 0\n0 serverclose 0\n' > "$dir/close.seed"
printf '\0011 rsp 6 200 OK\n2 rsp 6 200 OK\n' > "$dir/wrapped.seed"
