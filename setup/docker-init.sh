#!/usr/bin/env bash
# docker-compose.yml's init step (service odoo-init, run before Odoo starts): on the first
# `docker compose up` create the demo database with the suite's addons and their demo data; on any
# later `up` find them installed and change nothing. An interrupted first install is finished by
# the next `up` (Odoo's -i installs what is missing in an existing database).
set -o errexit -o nounset -o pipefail

DB="${HC_DEMO_DB:-hc_demo}"
ADDONS="hc_integration_base,hc_procurement_sync,hc_inventory_sync,hc_workforce_sync,hc_maintenance_sync,hc_budget_sync"
CONF="${ODOO_RC:-/etc/odoo/odoo.conf}"

for _ in $(seq 1 60); do
    pg_isready -q && break
    sleep 1
done
pg_isready -q || { echo "[hc-init] PostgreSQL at ${PGHOST:-local socket} does not answer." >&2; exit 1; }

# No database yet (psql fails) counts as none installed.
installed="$(psql -d "$DB" -tAc \
    "select count(*) from ir_module_module where name in ('${ADDONS//,/\',\'}') and state = 'installed'" \
    2>/dev/null || echo 0)"
wanted="$(echo "$ADDONS" | tr ',' '\n' | grep -c .)"
if [ "$installed" = "$wanted" ]; then
    echo "[hc-init] $DB already has the $wanted addons installed: nothing to do."
    exit 0
fi
echo "[hc-init] Installing $ADDONS with demo data into $DB (a few minutes)"
exec odoo -c "$CONF" -d "$DB" -i "$ADDONS" --with-demo --stop-after-init --workers 0 --max-cron-threads 0 --no-http
