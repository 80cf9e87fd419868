#!/usr/bin/env bash
# The README's run command: bootstrap if needed, create (or reuse) the demo database with the
# three addons and their demo data, start the legacy simulators, Odoo with the job runner and the
# MLLP listener.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Settings checked before anything starts (the job node: see below).
HC_JOB_NODE_NICE="${HC_JOB_NODE_NICE:-10}"
[[ "$HC_JOB_NODE_NICE" =~ ^(off|[0-9]|1[0-9])$ ]] || die "HC_JOB_NODE_NICE=$HC_JOB_NODE_NICE: give the job \
node's CPU priority as a niceness from 0 to 19 (10 by default), or off to run the jobs in the web node's workers."

bash "$HC_REPO/setup/bootstrap.sh"
SRC="$(odoo_src)"
cd "$HC_REPO"

pids=()
cleanup() {
    for pid in "${pids[@]}" ${job_pid:-}; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "Starting the legacy simulators (REST :$HC_SIM_REST_PORT, SOAP :$HC_SIM_SOAP_PORT)"
"$PY" -m legacy_sim --host 127.0.0.1 --rest-port "$HC_SIM_REST_PORT" --soap-port "$HC_SIM_SOAP_PORT" \
    --items "${HC_SIM_ITEMS:-500}" --suppliers "${HC_SIM_SUPPLIERS:-40}" > "$HC_VAR/simulators.log" 2>&1 &
pids+=($!)

installed="$(psql -d "$HC_DEMO_DB" -tAc \
    "select count(*) from ir_module_module where name in ('${HC_ADDONS//,/\',\'}') and state = 'installed'" \
    2>/dev/null || echo 0)"
# The addons' code as of now: when it differs from what the database was last updated with,
# the database is upgraded so a reused demo database always matches the checkout.
fingerprint="$(cd "$HC_REPO/addons" && find . -type f -not -path '*/__pycache__/*' -print0 | sort -z \
    | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)"
stamp="$HC_VAR/$HC_DEMO_DB.addons.sha256"
if [ "$installed" != "$(echo "${HC_ADDONS//,/ }" | wc -w)" ]; then
    say "Creating demo database $HC_DEMO_DB with the suite's addons and demo data (about a minute)"
    "$PY" "$SRC/odoo-bin" -c "$HC_CONF" -d "$HC_DEMO_DB" -i "$HC_ADDONS" --with-demo \
        --stop-after-init --workers 0 --max-cron-threads 0 --log-level warn \
        > "$HC_VAR/demo-install.log" 2>&1 \
        || die "Installing the demo database failed; see $HC_VAR/demo-install.log"
    # Odoo 19's own first procurement-scheduler run on a fresh purchase_stock demo database fails on
    # a serialization error between its committed batches and its main cursor (seen on plain
    # purchase_stock demo data, without these addons; later runs pass). One run in a single
    # transaction here settles the demo data, so the server's first cron run is clean.
    echo "env['stock.rule'].run_scheduler(); env.cr.commit()" | "$PY" "$SRC/odoo-bin" shell -c "$HC_CONF" \
        -d "$HC_DEMO_DB" --no-http --log-level warn >> "$HC_VAR/demo-install.log" 2>&1 \
        || die "The first procurement scheduler run on the demo database failed; see $HC_VAR/demo-install.log"
    echo "$fingerprint" > "$stamp"
elif [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$fingerprint" ]; then
    say "Upgrading the addons in $HC_DEMO_DB to match this checkout"
    "$PY" "$SRC/odoo-bin" -c "$HC_CONF" -d "$HC_DEMO_DB" -u "$HC_ADDONS" \
        --stop-after-init --workers 0 --max-cron-threads 0 --log-level warn \
        > "$HC_VAR/demo-upgrade.log" 2>&1 \
        || die "Upgrading the demo database failed; see $HC_VAR/demo-upgrade.log"
    echo "$fingerprint" > "$stamp"
fi

url="http://127.0.0.1:$HC_HTTP_PORT"
# The server log; HC_LOG gives a run its own file (the run-command test reads only its own run).
log="${HC_LOG:-$HC_VAR/odoo.log}"
mkdir -p "$(dirname "$log")"
say "Starting Odoo with the queue_job runner on $url"
# -d alone serves that one database. A --db-filter would make Odoo list the server's databases
# (a connection to "postgres") on every request without a session: a fifth of an inbound post.
# The workers listen on an inner port; the port users open is the proxy's, which sends /websocket
# to the gevent process as nginx would (the web client opens it on the port it was loaded from).
# The jobs run on a job node of their own at a lower CPU priority (HC_JOB_NODE_NICE, 10; "off": in the
# web node's workers): the runner, in the web node, sends them there, so a backlog draining never
# slows what is being received - inbound posts, the web client. Measured: accepted events/s of a
# burst while the runner drains it 162 -> 223-248 (tests/bench/bench_inbound.py).
runner_env=()
if [ "$HC_JOB_NODE_NICE" != off ]; then
    job_port="${HC_JOB_PORT:-$((HC_HTTP_PORT + 4))}"
    say "Starting the job node (nice $HC_JOB_NODE_NICE, ${HC_JOB_WORKERS:-2} workers) on port $job_port"
    ODOO_QUEUE_JOB_CHANNELS=root:0 nice -n "$HC_JOB_NODE_NICE" "$PY" "$SRC/odoo-bin" -c "$HC_CONF" \
        -d "$HC_DEMO_DB" --http-port "$job_port" --gevent-port "$((job_port + 1))" \
        --workers "${HC_JOB_WORKERS:-2}" --max-cron-threads 0 --logfile "${log%.log}-jobs.log" &
    job_pid=$!
    runner_env=(ODOO_QUEUE_JOB_PORT="$job_port")
fi
env "${runner_env[@]}" "$PY" "$SRC/odoo-bin" -c "$HC_CONF" -d "$HC_DEMO_DB" --http-port "$HC_ODOO_HTTP_PORT" \
    --logfile "$log" &
pids+=($!)
"$PY" "$HC_REPO/setup/proxy.py" --listen "$HC_HTTP_PORT" --http "$HC_ODOO_HTTP_PORT" \
    --gevent "$HC_GEVENT_PORT" &
pids+=($!)

# The HL7 v2 side: the materials-management peer simulator (it receives Odoo's MLLP pushes) and the
# MLLP listener, an Odoo process of its own (odoo-bin mllp_listener) storing each message before its
# ACK. --addons-path first lets odoo-bin find the command in hc_integration_base.
"$PY" -m legacy_sim.hl7_peer --host 127.0.0.1 --port "$HC_SIM_HL7_PORT" > "$HC_VAR/hl7-peer.log" 2>&1 &
pids+=($!)
addons_path="$(sed -n 's/^addons_path *= *//p' "$HC_CONF" | head -n 1)"
# The demo backend listens on HC_MLLP_PORT (2576 in its demo data; another value is written on it).
if [ "$HC_MLLP_PORT" != 2576 ]; then
    psql -d "$HC_DEMO_DB" -qc "UPDATE hc_backend SET mllp_listen_port = $HC_MLLP_PORT WHERE code = 'mmis_hl7'" \
        >/dev/null 2>&1 || true
fi
"$PY" "$SRC/odoo-bin" --addons-path="$addons_path" mllp_listener -c "$HC_CONF" -d "$HC_DEMO_DB" \
    > "$HC_VAR/mllp-listener.log" 2>&1 &
pids+=($!)

for _ in $(seq 1 120); do
    curl -fsS "$url/web/health" >/dev/null 2>&1 && break
    kill -0 "${pids[1]}" 2>/dev/null || die "Odoo stopped while starting; see $log"
    kill -0 "${pids[2]}" 2>/dev/null || die "The proxy on port $HC_HTTP_PORT stopped (is the port in use?)"
    sleep 1
done
if [ -n "${job_pid:-}" ]; then
    for _ in $(seq 1 120); do
        curl -fsS "http://127.0.0.1:$job_port/web/health" >/dev/null 2>&1 && break
        kill -0 "$job_pid" 2>/dev/null || die "The job node stopped while starting; see ${log%.log}-jobs.log"
        sleep 1
    done
fi
# The MLLP listener loads its own registry: wait until its port takes connections.
for _ in $(seq 1 120); do
    (exec 3<>"/dev/tcp/127.0.0.1/$HC_MLLP_PORT") 2>/dev/null && break
    kill -0 "${pids[4]}" 2>/dev/null || die "The MLLP listener stopped while starting; see $HC_VAR/mllp-listener.log"
    sleep 1
done
cat <<MSG

  Healthcare integration suite is running.
    Odoo:        $url/odoo  (database $HC_DEMO_DB)
    Login:       admin / admin
    Simulators:  REST http://127.0.0.1:$HC_SIM_REST_PORT   SOAP http://127.0.0.1:$HC_SIM_SOAP_PORT/procurement?wsdl
                 HL7 v2 peer mllp://127.0.0.1:$HC_SIM_HL7_PORT
                 HR :8093, CMMS :8094, finance :8095, FHIR R4 http://127.0.0.1:8096/fhir (when those ports were free)
    HL7 v2:      MLLP listener on 127.0.0.1:$HC_MLLP_PORT (try: $PY -m legacy_sim.hl7_peer --send MFN^M16 --to 127.0.0.1:$HC_MLLP_PORT)
    Logs:        $log, $HC_VAR/simulators.log, $HC_VAR/mllp-listener.log
  Press Ctrl+C to stop.

MSG
wait "${pids[1]}"
