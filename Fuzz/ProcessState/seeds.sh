#!/bin/sh
# Seeds for ProcessState: state files and cgroup files written here (the corpus has neither), each
# behind its mode byte (see main.swift). Usage: seeds.sh DIR < file-list (the list is not used).
set -eu
dir=$1
cat > /dev/null
id=3f2ab4c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9
printf '\001swift-audit process table v1\nboot 0c4a-boot\nclock 1795345044640\nP 1 - l 1795345044640 0 - 2F7362696E2F696E6974 73797374656D64 2F - - - init.scope 0 - - 0 1 2F7362696E2F696E6974\nP 4242 1 x 1795345044640 1795345044650 1795345044.640:7001 2F62696E2F7368 7368 2F746D70 %s 646F636B6572 - - 1 - - 2 4C445F5052454C4F4144 2F746D702F782E736F 2 7368 2D63\n' "$id" > "$dir/state.seed"
printf '\0020::/system.slice/docker-%s.scope\n' "$id" > "$dir/docker.seed"
printf '\00212:pids:/kubepods/burstable/pod0a1b2c3d-1111-2222-3333-444455556666/%s\n0::/\n' "$id" > "$dir/kubepods.seed"
printf '\0020::/user.slice/user-1000.slice/user@1000.service/app.slice/libpod-%s.scope/container\n' "$id" \
    > "$dir/podman.seed"
printf '\0020::/system.slice/nginx.service\n' > "$dir/service.seed"
