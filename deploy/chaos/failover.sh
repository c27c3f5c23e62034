#!/usr/bin/env bash
# Moves the running sandbox's home region (a planned failover), as the CLI does it:
# fence the old primary, promote REGION, repoint the other standbys, rebuild the old
# primary as a standby, move the heartbeat writer and the control plane's view.
#
#   deploy/chaos/failover.sh --to REGION [--state-dir DIR]
source "$(dirname "$0")/lib.sh"

parse_common "$@"
set -- "${ARGS[@]}"
[[ $# -eq 2 && "$1" == --to ]] || { sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
require_region "$2"
exec node "$(cd "$(dirname "$0")/../.." && pwd)/packages/cli/dist/bin.js" failover --to "$2" --state-dir "$STATE_DIR"
