#!/usr/bin/env bash
# npm test: the static checks (types, dependency rules, format) run beside the test suite rather
# than before it: the suite spends part of its time waiting on sockets and child processes, and
# on a 2-core machine the checks fit in that slack instead of adding their 10–20 s to the wall
# time. Their output comes after the suite's; either failing fails the run. `npm run typecheck`,
# `lint:deps` and `format:check` run each on its own, for a quick answer.
set -u
cd "$(dirname "$0")/.."
static_log=$(mktemp)
(npm run -s typecheck && npm run -s lint:deps && npm run -s format:check) >"$static_log" 2>&1 &
static=$!
npx vitest run "$@"
tests=$?
if wait "$static"; then static_ok=1; else static_ok=0; fi
echo
if ((static_ok)); then
  echo "static checks passed (tsc --noEmit, lint:deps, format:check):"
else
  echo "static checks FAILED (tsc --noEmit, lint:deps, format:check):"
fi
cat "$static_log"
rm -f "$static_log"
((tests == 0 && static_ok)) || exit 1
