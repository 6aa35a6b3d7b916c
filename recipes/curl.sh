#!/usr/bin/env bash
# PartLogic Stock API from the shell. Put your key in the environment, not in the script:
#   export PARTLOGIC_API_KEY=pl_...
#   bash curl.sh
set -euo pipefail
BASE="${PARTLOGIC_BASE_URL:-{{PARTLOGIC_BASE_URL}}}"
KEY="${PARTLOGIC_API_KEY:?set PARTLOGIC_API_KEY to your PartLogic API key}"
# --fail-with-body: a refusal stops the script, after printing the server's explanation.
H=(-sS --fail-with-body -H "X-API-Key: $KEY")

curl -sf "$BASE/api/ping"; echo                                   # up? (no key needed)
curl "${H[@]}" "$BASE/api/key"; echo                          # which key is this, what does it reach?
curl "${H[@]}" "$BASE/api/devices"; echo                      # the devices it reads
curl "${H[@]}" "$BASE/api/stock?below_min=true"; echo         # rows below their minimum
curl "${H[@]}" "$BASE/api/stock/alerts?limit=10"; echo        # the latest low-stock/restock events
curl "${H[@]}" -H 'Accept: text/csv' "$BASE/api/stock" -o stock.csv   # everything, as CSV
echo "wrote stock.csv"

# The same key as HTTP Basic (user name = key, no password), for tools that only do Basic:
#   curl -u "$KEY:" "$BASE/api/stock?limit=5"
# or as a Bearer token:
#   curl -H "Authorization: Bearer $KEY" "$BASE/api/stock?limit=5"
