# Shared settings and helpers for the setup scripts (sourced, not executed).
# Every value can be overridden from the environment; see README.md "Configuration".

set -o errexit -o nounset -o pipefail

HC_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HC_HOME="${HC_HOME:-${XDG_DATA_HOME:-$HOME/.local/share}/hc-integration}"
HC_ODOO_DEFAULT="$HC_HOME/odoo-19.0"
HC_ODOO_GIT="${HC_ODOO_GIT:-https://github.com/odoo/odoo.git}"
HC_VENV="${HC_VENV:-$HC_HOME/venv}"
HC_VAR="${HC_VAR:-$HC_REPO/var}"
HC_CONF="${HC_CONF:-$HC_VAR/odoo.conf}"
HC_HTTP_PORT="${HC_HTTP_PORT:-8069}"
HC_GEVENT_PORT="${HC_GEVENT_PORT:-8072}"
# Odoo's HTTP workers under run.sh, behind its proxy on HC_HTTP_PORT
HC_ODOO_HTTP_PORT="${HC_ODOO_HTTP_PORT:-$((HC_HTTP_PORT + 1))}"
HC_SIM_REST_PORT="${HC_SIM_REST_PORT:-8091}"
HC_SIM_SOAP_PORT="${HC_SIM_SOAP_PORT:-8092}"
# The HL7 v2 peer simulator (MLLP) and the MLLP listener's demo port (the demo backend names both)
HC_SIM_HL7_PORT="${HC_SIM_HL7_PORT:-2575}"
HC_MLLP_PORT="${HC_MLLP_PORT:-2576}"
HC_DEMO_DB="${HC_DEMO_DB:-hc_demo}"
HC_PYTHON="${HC_PYTHON:-python3}"
HC_ADDONS="hc_integration_base,hc_procurement_sync,hc_inventory_sync,hc_workforce_sync,hc_maintenance_sync,hc_budget_sync"

PY="$HC_VENV/bin/python"

say() { printf '[hc-setup] %s\n' "$*" >&2; }
die() { printf '\n[hc-setup] ERROR: %s\n\n' "$*" >&2; exit 1; }

# The Odoo source tree chosen by bootstrap, recorded so the other scripts agree on it.
odoo_src() {
    if [ -n "${ODOO_SRC:-}" ]; then
        printf '%s' "$ODOO_SRC"
    else
        printf '%s' "$HC_ODOO_DEFAULT"
    fi
}

is_odoo19() {
    [ -f "$1/odoo-bin" ] && [ -f "$1/odoo/release.py" ] \
        && grep -q "^version_info = (19, 0" "$1/odoo/release.py"
}

# Folder holding the queue_job addon installed from PyPI (site-packages/odoo/addons).
queue_job_addons_dir() {
    "$PY" - <<'PYEOF'
import sysconfig, pathlib
p = pathlib.Path(sysconfig.get_paths()["purelib"]) / "odoo" / "addons"
print(p if (p / "queue_job" / "__manifest__.py").exists() else "")
PYEOF
}

pg_answers() { pg_isready -q >/dev/null 2>&1; }
