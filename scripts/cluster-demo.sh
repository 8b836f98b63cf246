#!/usr/bin/env bash
# Two chatlab server nodes, one chat, over Redis — with an inspector in front of each node, so one
# `say` can be watched crossing from node A to node B (docs/clustering.md, "Try it"). Separate
# processes you can kill -9, and you type the chat; `npx chatlab demo --cluster` does it in one
# process with the scripted chat, on free ports.
#
#   scripts/cluster-demo.sh            # Redis on 6399, nodes on 7170/7270, inspectors on 7171/7271
#   then, in two more terminals:
#   npm run chatlab -- client --port 7171 --user alice --register --password wonderland
#   npm run chatlab -- client --port 7271 --user bob --register --password builder
#
# Ctrl-C stops everything this script started (and only that).
set -euo pipefail
cd "$(dirname "$0")/.."

REDIS_PORT=${REDIS_PORT:-6399}
A=${NODE_A_PORT:-7170}
B=${NODE_B_PORT:-7270}
chatlab=(node --import tsx src/cli/main.ts)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

command -v redis-server >/dev/null || { echo "cluster-demo: redis-server is not installed (Debian: apt-get install redis-server)" >&2; exit 1; }
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no >/dev/null &
pids+=($!)
until redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; do sleep 0.1; done

export CHATLAB_REDIS="redis://127.0.0.1:$REDIS_PORT"
"${chatlab[@]}" server --port "$A" --db :memory: --node-id A &
pids+=($!)
"${chatlab[@]}" server --port "$B" --db :memory: --node-id B &
pids+=($!)
"${chatlab[@]}" inspect --listen $((A + 1)) --target "127.0.0.1:$A" --plain --type=-ping,-pong | sed -u 's/^/[inspector A] /' &
pids+=($!)
"${chatlab[@]}" inspect --listen $((B + 1)) --target "127.0.0.1:$B" --plain --type=-ping,-pong | sed -u 's/^/[inspector B] /' &
pids+=($!)
echo "cluster-demo: node A on $A (inspector $((A + 1))), node B on $B (inspector $((B + 1))), Redis on $REDIS_PORT; Ctrl-C to stop"
wait
