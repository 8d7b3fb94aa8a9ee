#!/usr/bin/env bash
# System packages the integration tests start themselves. Idempotent.
set -euo pipefail
need=()
command -v git >/dev/null || need+=(git)
# A throwaway PostgreSQL server runs the audit-log tests on PostgreSQL (.ci/postgres.sh).
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
# Headless Chromium opens the HTML lineage report in tests/governance/test_lineage.py.
[ -x /usr/bin/chromium ] || need+=(chromium chromium-driver)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi
