#!/usr/bin/env bash
# Odoo's own test suites of the apps the addons extend — purchase, purchase_stock, stock, hr,
# maintenance, hr_maintenance — with all the suite's addons installed, in a fresh database: proves
# the suite does not break them (long: 30+ min). HC_SUITES picks other test tags.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bash "$HC_REPO/setup/bootstrap.sh"
SRC="$(odoo_src)"
DB="${HC_SUITES_DB:-hc_odoo_suites}"
LOG="$HC_VAR/odoo-suites.log"
dropdb --if-exists "$DB"
set +o errexit
"$PY" "$SRC/odoo-bin" -c "$HC_CONF" -d "$DB" -i "$HC_ADDONS,purchase_stock" --test-enable \
    --test-tags "${HC_SUITES:-/purchase,/purchase_stock,/stock,/hr,/maintenance,/hr_maintenance}" --stop-after-init --workers 0 --max-cron-threads 0 \
    --http-port "${HC_SUITES_PORT:-8179}" > "$LOG" 2>&1
rc=$?
grep -E "odoo\.tests\.stats: (purchase|purchase_stock|stock|hr|maintenance|hr_maintenance): |[0-9]+ failed, [0-9]+ error\(s\) of [0-9]+ tests" "$LOG" | tail -n 20
exit $rc
