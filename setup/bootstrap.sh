#!/usr/bin/env bash
# Idempotent bootstrap: Odoo 19 source, system packages, virtualenv, PostgreSQL, odoo.conf.
# Safe to run any number of times; a second run with nothing changed changes nothing.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# --- 1. Odoo 19 source ---------------------------------------------------------------
find_odoo() {
    if [ -n "${ODOO_SRC:-}" ]; then
        is_odoo19 "$ODOO_SRC" && return 0
        die "ODOO_SRC=$ODOO_SRC is not an Odoo 19.0 source tree (no odoo-bin or odoo/release.py \
with version 19.0 there). Point ODOO_SRC at a checkout of Odoo 19.0 Community, for example
    git clone --depth 1 --branch 19.0 $HC_ODOO_GIT /path/to/odoo && export ODOO_SRC=/path/to/odoo
or unset ODOO_SRC to use the default location $HC_ODOO_DEFAULT."
    fi
    is_odoo19 "$HC_ODOO_DEFAULT" && return 0
    if [ -e "$HC_ODOO_DEFAULT" ] && [ -n "$(ls -A "$HC_ODOO_DEFAULT" 2>/dev/null)" ]; then
        die "$HC_ODOO_DEFAULT exists but is not an Odoo 19.0 source tree. Remove it, or set ODOO_SRC \
to the folder of an Odoo 19.0 Community checkout (the folder that contains odoo-bin)."
    fi
    say "No Odoo source found: cloning branch 19.0 into $HC_ODOO_DEFAULT (shallow, about 1 GB)"
    mkdir -p "$(dirname "$HC_ODOO_DEFAULT")"
    if ! timeout "${HC_CLONE_TIMEOUT:-1800}" git clone --quiet --depth 1 --branch 19.0 \
            "$HC_ODOO_GIT" "$HC_ODOO_DEFAULT"; then
        rm -rf "$HC_ODOO_DEFAULT"
        die "No Odoo 19 source is available. The suite runs on Odoo 19.0 Community from source, \
found through the ODOO_SRC environment variable or at the default location $HC_ODOO_DEFAULT; \
neither exists and cloning $HC_ODOO_GIT (branch 19.0) failed. Provide one of them: \
'git clone --depth 1 --branch 19.0 $HC_ODOO_GIT $HC_ODOO_DEFAULT' on a machine with access, \
or 'export ODOO_SRC=/path/to/odoo' for an existing checkout (the folder holding odoo-bin), \
then run this command again."
    fi
}

# --- 2. Debian packages -------------------------------------------------------------------
DEB_PACKAGES=(libldap2-dev libsasl2-dev libpq-dev postgresql-client chromium)
install_debs() {
    command -v dpkg-query >/dev/null 2>&1 || { say "Not a Debian system: install the equivalents of ${DEB_PACKAGES[*]} yourself."; return 0; }
    local missing=()
    for p in "${DEB_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" = 0 ]; then
        say "Installing Debian packages: ${missing[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        die "Missing Debian packages: ${missing[*]}. Install them with: sudo apt-get install ${missing[*]}"
    fi
}

# --- 3. Virtualenv --------------------------------------------------------------------------
QUEUE_JOB_SPEC='odoo-addon-queue-job==19.0.*'
# OCA's budgets (crossovered.budget): Community has no budget model; hc_budget_sync builds on it.
BUDGET_SPEC='odoo-addon-account-budget-oca==19.0.*'
install_python() {
    local src="$1"
    if [ ! -x "$PY" ]; then
        "$HC_PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
            || die "Python 3.10 or newer is needed ($HC_PYTHON is $("$HC_PYTHON" --version 2>&1)); set HC_PYTHON."
        say "Creating virtualenv $HC_VENV"
        "$HC_PYTHON" -m venv "$HC_VENV"
    fi
    local stamp="$HC_VENV/.hc-requirements.sha256" want
    want="$(cat "$src/requirements.txt" "$HC_REPO/requirements.txt" "$HC_REPO/test-requirements.txt" \
            <(echo "$QUEUE_JOB_SPEC") <(echo "$BUDGET_SPEC") | sha256sum | cut -d' ' -f1)"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -n "$(queue_job_addons_dir)" ]; then
        return 0
    fi
    say "Installing Python packages into $HC_VENV (Odoo's requirements, the suite's, queue_job)"
    local pipq=(-q --disable-pip-version-check)
    "$PY" -m pip install "${pipq[@]}" --upgrade pip wheel
    "$PY" -m pip install "${pipq[@]}" -r "$src/requirements.txt"
    # Odoo's pins act as constraints so the suite's packages never move what Odoo needs.
    "$PY" -m pip install "${pipq[@]}" -c "$src/requirements.txt" \
        -r "$HC_REPO/requirements.txt" -r "$HC_REPO/test-requirements.txt"
    "$PY" -m pip install "${pipq[@]}" --no-deps "$QUEUE_JOB_SPEC" "$BUDGET_SPEC"
    [ -n "$(queue_job_addons_dir)" ] || die "queue_job was installed but its addon folder was not found."
    [ -f "$(queue_job_addons_dir)/account_budget_oca/__manifest__.py" ] \
        || die "account_budget_oca was installed but not beside queue_job."
    echo "$want" > "$stamp"
}

# --- 4. PostgreSQL ------------------------------------------------------------------------------
ensure_postgres() {
    if ! pg_answers && [ -z "${PGHOST:-}" ] && command -v pg_lsclusters >/dev/null 2>&1; then
        while read -r ver name _port status _rest; do
            [ "$status" = "down" ] || continue
            say "Starting PostgreSQL cluster $ver/$name"
            pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start || true
        done < <(pg_lsclusters --no-header 2>/dev/null)
        for _ in $(seq 1 20); do pg_answers && break; sleep 0.5; done
    fi
    pg_answers || die "PostgreSQL does not answer (PGHOST=${PGHOST:-local socket} PGPORT=${PGPORT:-5432}). \
Start it, or set PGHOST/PGPORT/PGUSER/PGPASSWORD to a server where ${PGUSER:-$(id -un)} may create databases."
    if ! psql -d postgres -tAc 'select 1' >/dev/null 2>&1; then
        if [ "$(id -u)" = 0 ] && [ -z "${PGHOST:-}" ] && id postgres >/dev/null 2>&1; then
            say "Creating PostgreSQL role $(id -un)"
            su postgres -c "createuser --superuser $(id -un)"
        else
            die "PostgreSQL answers but role ${PGUSER:-$(id -un)} cannot connect; create it (createuser --createdb)."
        fi
    fi
}

# --- 5. odoo.conf ------------------------------------------------------------------------------
write_config() {
    local src="$1" qj new cores
    qj="$(queue_job_addons_dir)"
    # Odoo's sizing rule, 2 x cores + 1 HTTP workers, and at most one running job per core: jobs
    # then never hold every worker, and inbound posts are still answered while a backlog drains.
    cores="$(nproc 2>/dev/null || echo 2)"
    mkdir -p "$HC_VAR/data"
    new="$(cat <<CONF
; Written by setup/bootstrap.sh - edits are overwritten; change the HC_* variables instead.
[options]
addons_path = $src/odoo/addons,$src/addons,$qj,$HC_REPO/addons
data_dir = $HC_VAR/data
${PGHOST:+db_host = $PGHOST
}${PGPORT:+db_port = $PGPORT
}${PGUSER:+db_user = $PGUSER
}${PGPASSWORD:+db_password = $PGPASSWORD
}http_interface = 127.0.0.1
http_port = $HC_HTTP_PORT
gevent_port = $HC_GEVENT_PORT
server_wide_modules = base,web,queue_job
workers = ${HC_WORKERS:-$((2 * cores + 1))}
max_cron_threads = 1
limit_time_cpu = 600
limit_time_real = 1200
limit_memory_soft = 2147483648
limit_memory_hard = 2684354560
log_level = info

[queue_job]
channels = root:${HC_JOB_CAPACITY:-$cores},root.hc:${HC_JOB_CAPACITY:-$cores}
CONF
)"
    if [ ! -f "$HC_CONF" ] || [ "$(cat "$HC_CONF")" != "$new" ]; then
        say "Writing $HC_CONF"
        printf '%s\n' "$new" > "$HC_CONF"
    fi
}

main() {
    find_odoo
    local src; src="$(odoo_src)"
    install_debs
    install_python "$src"
    ensure_postgres
    write_config "$src"
    say "Ready: Odoo $src, venv $HC_VENV, config $HC_CONF"
}
main "$@"
