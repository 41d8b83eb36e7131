#!/usr/bin/env bash
# npm run guests [-- ID ...] — rebuild guest images from source, in place (guests/<id>/).
# Each guest folder owns a build.sh that takes an output folder and must be deterministic, so the
# committed images can be checked against a fresh rebuild (scripts/guests.test.ts).
# The Linux guest is heavy (minutes) and is rebuilt separately: guests/linux/build-linux.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/ensure-system-deps.sh" guests
ids=("$@")
if [ ${#ids[@]} -eq 0 ]; then
  for b in "$root"/guests/*/build.sh; do ids+=("$(basename "$(dirname "$b")")"); done
fi
for id in "${ids[@]}"; do
  echo "guests: building $id"
  bash "$root/guests/$id/build.sh" "$root/guests/$id"
done
