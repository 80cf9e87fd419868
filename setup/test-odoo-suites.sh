#!/usr/bin/env bash
# Odoo's own purchase, purchase_stock and stock test suites with the three addons installed,
# in a fresh database: proves the suite does not break standard procurement (long: 20+ min).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bash "$HC_REPO/setup/bootstrap.sh"
SRC="$(odoo_src)"
DB="${HC_SUITES_DB:-hc_odoo_suites}"
LOG="$HC_VAR/odoo-suites.log"
dropdb --if-exists "$DB"
set +o errexit
"$PY" "$SRC/odoo-bin" -c "$HC_CONF" -d "$DB" -i "$HC_ADDONS,purchase_stock" --test-enable \
    --test-tags "/purchase,/purchase_stock,/stock" --stop-after-init --workers 0 --max-cron-threads 0 \
    --http-port "${HC_SUITES_PORT:-8179}" > "$LOG" 2>&1
rc=$?
grep -E "Module (purchase|purchase_stock|stock): |[0-9]+ failed, [0-9]+ error\(s\) of [0-9]+ tests" "$LOG" | tail -n 5
exit $rc
