#!/bin/sh
# Seeds for SpoolSegments: segment files written by the spool itself are not in the corpus, so
# these are made here with printf (see main.swift for the mode byte). Usage: seeds.sh DIR < list
# (the list is not used).
set -eu
dir=$1
cat > /dev/null
# One entry "hello" (header: SPL1, length 5, time 0, CRC-32C of the payload, CRC-32C of the header).
entry='SPL1\005\000\000\000\000\000\000\000\000\000\000\000L\273q\232\367\377\032shello'
printf "\000$entry$entry" > "$dir/parse.seed"
printf "\001\020$entry$entry$entry" > "$dir/open.seed"
printf "\000$entry${entry}SPL1\005\000" > "$dir/torn.seed"
