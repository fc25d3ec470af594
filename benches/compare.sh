#!/usr/bin/env bash
# compare.sh - shoal and a real Docker engine in swarm mode, side by side, same workload.
#
#   benches/compare.sh [--scale medium] [--workloads w1,w2,w4] [--rounds 3] [-- extra args]
#
# Starts a private dockerd in swarm mode in its own network namespace (engine.sh from the
# shared bench kit), builds and starts shoal (release) on a unix socket with a fresh data root
# and `swarm init`, then runs swarm_bench.py in compare mode (A = the engine, B = shoal), with
# both servers' RSS/CPU sampled. shoal's tasks run on the local dockerd (/var/run/docker.sock).
# Results: bench-results/compare-<time>.json and .md. Needs root.
#
# Environment: BENCH_KIT (default ../shared/bench) holds engine.sh and swarm_bench.py.
set -euo pipefail
cd "$(dirname "$0")/.."
KIT=${BENCH_KIT:-../shared/bench}
OUT=bench-results
mkdir -p "$OUT"
stamp=$(date +%Y%m%d-%H%M%S)

cargo build --release --quiet

# engine.sh passes --data-root; a dockerd whose /etc/docker/daemon.json also sets data-root
# refuses to start, so the benchmark engine gets a config without it.
engine_config=$(mktemp /tmp/shoal-bench-daemon.XXXXXX.json)
engine_script=$(mktemp /tmp/shoal-bench-engine.XXXXXX.sh)
python3 - "$engine_config" <<'PY'
import json, sys
try:
    config = json.load(open("/etc/docker/daemon.json"))
except (OSError, ValueError):
    config = {}
config.pop("data-root", None)
json.dump(config, open(sys.argv[1], "w"))
PY
sed "s|nsenter --net=/run/netns/\"\$NAME\" dockerd |nsenter --net=/run/netns/\"\$NAME\" dockerd --config-file $engine_config |" \
  "$KIT/engine.sh" > "$engine_script"
bash "$engine_script" up
ENGINE_SOCK=/run/docker-perf.sock

tmp=$(mktemp -d /tmp/shoal-bench.XXXXXX)
./target/release/shoal -H "unix://$tmp/shoal.sock" --data-root "$tmp/data" --log-level warn \
  > "$tmp/shoal.log" 2>&1 &
shoal_pid=$!
trap 'kill $shoal_pid 2>/dev/null; wait $shoal_pid 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 1 100); do [ -S "$tmp/shoal.sock" ] && break; sleep 0.05; done
DOCKER_HOST="unix://$tmp/shoal.sock" docker swarm init --advertise-addr 127.0.0.1 >/dev/null

# The benchmark image must exist on shoal's engine too.
if ! docker -H unix:///var/run/docker.sock image inspect bench/busybox:1 >/dev/null 2>&1; then
  docker -H "unix://$ENGINE_SOCK" save bench/busybox:1 | docker -H unix:///var/run/docker.sock load >/dev/null
fi

python3 "$KIT/swarm_bench.py" --host "unix://$ENGINE_SOCK" \
  --compare "unix://$tmp/shoal.sock" --engine-host2 unix:///var/run/docker.sock \
  --pid "$(cat /run/docker-perf.pid)" --pid2 "$shoal_pid" \
  --fsync-dir "$tmp" --out "$OUT/compare-$stamp.json" --markdown "$OUT/compare-$stamp.md" "$@"
echo "shoal RSS at the end: $(awk '/VmRSS/ {print $2/1024 " MiB"}' /proc/$shoal_pid/status)"
echo "results: $OUT/compare-$stamp.md"
