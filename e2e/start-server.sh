#!/usr/bin/env bash
# The server the browser tests drive: the real binary on a throwaway SQLite database with the
# demo data, plus a second Acme member who sees two South Plant devices.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf "${TMPDIR:-/tmp}"/partlogic-e2e-*
dir=$(mktemp -d "${TMPDIR:-/tmp}/partlogic-e2e-XXXXXX")
export DATABASE_URL="sqlite://$dir/e2e.db?mode=rwc"
export RUST_LOG=warn
bin=$PWD/target/debug/partlogic
"$bin" demo > /dev/null
echo 'partlogic-demo' | "$bin" user add --account "Acme Manufacturing" --email member2@acme.example --name "Riley Second" > /dev/null
"$bin" user grant member2@acme.example --device "SP Main Stores" --device "SP Tool Crib" > /dev/null
# An item whose text a spreadsheet would misread: a formula for a description, an item code
# with leading zeros (the Google Sheets recipe must keep both as text).
printf '%s\n' 'Item Code,Description*,Quantity In Stock,Storeroom' \
  '00123,"=HYPERLINK(""http://evil.example"",""click"")",4,NP Main Stores' > "$dir/tricky.csv"
"$bin" import "$dir/tricky.csv" --account "Acme Manufacturing" > /dev/null
# A big account for the 10,000-device test, through the real CSV import.
csv="$dir/bigco.csv"
{
  echo "Item Code,Description*,Category,Sub-Category,Sales Price,Cost Price,GTIN,Manufacturer,Manufacturer Part Number,Supplier,Supplier Part Number,Quantity In Stock,Storeroom,Location,Barcode"
  for i in $(seq -w 0 9999); do echo "BOLT-$i,Hex bolt,,,,,,,,,,$((10#$i % 50)),Crib $i,A-01,"; done
} > "$csv"
"$bin" account add "Bigco" > /dev/null
echo 'partlogic-demo' | "$bin" user add --account Bigco --email admin@bigco.example --name "Bo Bigco" --admin > /dev/null
"$bin" import "$csv" --account Bigco --customer "Bigco Works" > /dev/null
# Leak reports signed by the test key in fixtures/ (standing in for GitHub's).
export PARTLOGIC_SECRET_SCANNING_KEYS=$PWD/e2e/fixtures/secret-scanning-keys.json
# Webhooks to the tests' receivers on loopback (a real server refuses such URLs).
export PARTLOGIC_WEBHOOK_ALLOW_PRIVATE=true
# From a directory with no SPA in it and no --static-dir: the portal the tests click through
# is the one compiled into the binary.
cd "$dir"
exec "$bin" serve --bind "127.0.0.1:${E2E_PORT:-18765}"
