#!/bin/bash
# usage: list.sh <file-with-hex-blobs-one-per-line> [auditctl -l extra args]
f=$1; shift
FAKENL_RULES=$f LD_PRELOAD=$(dirname "$0")/fakenl.so auditctl -l "$@"
