#!/usr/bin/env bash
# PartLogic Stock API from the shell. Put your key in the environment, not in the script:
#   export PARTLOGIC_API_KEY=pl_...
#   bash curl.sh
set -euo pipefail
BASE="${PARTLOGIC_BASE_URL:-{{PARTLOGIC_BASE_URL}}}"
KEY="${PARTLOGIC_API_KEY:?set PARTLOGIC_API_KEY to your PartLogic API key}"

# Calls the Stock API with the key. The key reaches curl on its standard input (`-H @-` reads
# header lines from it), never on its command line, which `ps` shows to every user of this
# machine. --fail-with-body: a refusal stops the script, after printing the server's answer.
api() {
  curl -sS --fail-with-body -H @- "$@" <<< "X-API-Key: $KEY"
}

curl -sf "$BASE/api/ping"; echo                             # up? (no key needed)
api "$BASE/api/key"; echo                                   # which key is this, what does it reach?
api "$BASE/api/devices"; echo                               # the devices it reads
api "$BASE/api/stock?below_min=true"; echo                  # rows below their minimum
api "$BASE/api/stock/alerts?limit=10"; echo                 # the latest low-stock/restock events
api -H 'Accept: text/csv' "$BASE/api/stock" -o stock.csv    # everything, as CSV
echo "wrote stock.csv"

# The same key as HTTP Basic or as a Bearer token, for tools that only do those; here too
# through standard input, never as an argument (`-u "$KEY:"` would put it on the command line):
#   curl -sS -H @- "$BASE/api/stock?limit=5" <<< "Authorization: Bearer $KEY"
