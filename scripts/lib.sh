# Shared set-up for scripts/run, scripts/test and the benchmarks. Source it; do not run it.
# Idempotent: installs only what is missing (Debian packages when root, the venv, pip packages).

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PYTHON="${MAILADMIN_PYTHON:-python3}"

log() { printf '\033[1m[mailadmin]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[31m[mailadmin] %s\033[0m\n' "$*" >&2; exit 1; }

# ensure_debian_packages PKG... : apt-get install the ones not installed yet.
ensure_debian_packages() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        die "missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})"
    fi
    log "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Never start the system's own daemons (slapd, dovecot, postfix): we run private instances.
    local policy=/usr/sbin/policy-rc.d created_policy=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && created_policy=1
    fi
    apt-get update -qq || die "apt-get update failed"
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || die "apt-get install failed: ${missing[*]}"
    [ $created_policy -eq 1 ] && rm -f "$policy"
    return 0
}

# ensure_venv : create .venv and install the package (editable, with the test extra, so that
# scripts/run, scripts/test and the benchmarks share one install) when setup.cfg changed.
ensure_venv() {
    local extras="test"
    if [ ! -x "$VENV/bin/python" ]; then
        log "creating $VENV"
        "$PYTHON" -m venv "$VENV" || die "cannot create a venv with $PYTHON"
    fi
    local stamp="$VENV/.mailadmin-installed" want
    want="$(cat "$ROOT/setup.cfg" "$ROOT/pyproject.toml" | sha256sum | cut -d' ' -f1)-$extras"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        log "installing mailadmin${extras:+[$extras]} into $VENV"
        "$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null 2>&1 || true
        "$VENV/bin/python" -m pip install -q -e "$ROOT${extras:+[$extras]}" || die "pip install failed"
        echo "$want" > "$stamp"
    fi
}

# Debian packages: what scripts/run needs, and what the tests need on top (real servers, browser).
DIRECTORY_PACKAGES=(slapd ldap-utils)
# nginx-light and systemd: `nginx -t` and `systemd-analyze verify` check the files of `mailadmin deploy-config`
# (nginx-light has the ssl module: TLS client certificates); curl sends one in tests/test_cert_signin_nginx.py.
TEST_PACKAGES=("${DIRECTORY_PACKAGES[@]}" chromium dovecot-imapd dovecot-ldap postfix postfix-ldap nginx-light systemd
               curl)
