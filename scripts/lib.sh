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
