#!/bin/bash
# usage: enc.sh <auditctl args...>  -> prints captured netlink messages "type hex"
out=$(mktemp); rm -f $out
FAKENL_OUT=$out LD_PRELOAD=$(dirname "$0")/fakenl.so auditctl "$@" >/tmp/enc.stdout 2>/tmp/enc.stderr; rc=$?
cat /tmp/enc.stdout /tmp/enc.stderr >&2
[ -f $out ] && cat $out; rm -f $out; echo "rc=$rc" >&2
