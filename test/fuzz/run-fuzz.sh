#!/usr/bin/env bash
# `npm run fuzz [-- schemathesis run options]`: the REST API under schemathesis. Installs a pinned
# schemathesis into a venv (once), starts a dev server, the orchestrator worker and the API on
# loopback (test/fuzz/serve-for-fuzz.ts), runs every check against /docs-json and fails on any
# finding. Settings: test/fuzz/schemathesis.toml. FUZZ_API_PORT picks the port (default 3100).
# Requests carry an admin's bearer token (printed by the server); the `ignored_auth` check also
# sends them without one and with a wrong one, and expects 401.
set -euo pipefail
cd "$(dirname "$0")/../.."

version=4.32.5
venv="${FUZZ_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/durable-agents/schemathesis-${version}}"
if ! "${venv}/bin/schemathesis" --version 2>/dev/null | grep -qF "${version}"; then
  echo "installing schemathesis ${version} into ${venv}"
  rm -rf "${venv}"
  python3 -m venv "${venv}"
  "${venv}/bin/pip" install --quiet --disable-pip-version-check "schemathesis==${version}"
fi

work=$(mktemp -d)
node --import tsx test/fuzz/serve-for-fuzz.ts >"${work}/url" 2>"${work}/serve.log" &
server=$!
cleanup() {
  if kill -TERM "${server}" 2>/dev/null; then wait "${server}" 2>/dev/null || true; fi
  rm -rf "${work}"
}
trap cleanup EXIT

url=""
for _ in $(seq 1 360); do
  url=$(sed -n 's/^FUZZ_API_URL=//p' "${work}/url")
  [ -n "${url}" ] && break
  if ! kill -0 "${server}" 2>/dev/null; then break; fi
  sleep 0.5
done
if [ -z "${url}" ]; then
  echo "the API under test did not come up:" >&2
  cat "${work}/serve.log" >&2
  exit 1
fi
token=$(sed -n 's/^FUZZ_API_TOKEN=//p' "${work}/url")
echo "fuzzing ${url}"

status=0
"${venv}/bin/schemathesis" --config-file test/fuzz/schemathesis.toml run "${url}/docs-json" --checks all \
  --header "Authorization: Bearer ${token}" "$@" ||
  status=$?
if [ "${status}" -ne 0 ]; then
  echo "--- what the API logged (last 80 lines) ---" >&2
  tail -n 80 "${work}/serve.log" >&2
fi
exit "${status}"
