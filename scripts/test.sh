#!/usr/bin/env bash
# `make test`: the whole suite on SQLite + embedded broker, then again on PostgreSQL when one is reachable.
# NIA_TEST_PG_URL names the server (a private database is created and dropped per run); set it to "off" to skip.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
mkdir -p test-artifacts

run_pytest() {
  "$PY" -m pytest "$@"
  local rc=$?
  if [ $rc -eq 5 ]; then echo "pytest collected no tests: treating as failure"; return 1; fi
  return $rc
}

echo "== Test suite on SQLite =="
unset NIA_TEST_DATABASE_URL
run_pytest ${PYTEST_ARGS:-} || exit 1

PG_URL="${NIA_TEST_PG_URL:-postgresql://postgres@127.0.0.1:5432/test}"
if [ "$PG_URL" = "off" ]; then exit 0; fi
if "$PY" - "$PG_URL" <<'PYEOF' 2>/dev/null
import sys
import psycopg
url = sys.argv[1].replace("postgresql+psycopg://", "postgresql://")
psycopg.connect(url, connect_timeout=3).close()
PYEOF
then
  echo "== Database tests again on PostgreSQL ($PG_URL) =="
  NIA_TEST_DATABASE_URL="$PG_URL" run_pytest -m "not slow" ${PYTEST_PG_ARGS:-} || exit 1
else
  echo "PostgreSQL not reachable at $PG_URL: skipped the PostgreSQL pass (set NIA_TEST_PG_URL)."
fi
