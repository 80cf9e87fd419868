"""Start the suite with setup/run.sh (demo database, simulators, Odoo with the job runner)."""

import os
import shutil
import signal
import subprocess
import time
from contextlib import contextmanager

import requests
from _common import ROOT, dbname
from _odoo_shell import copy_database, ensure_database


@contextmanager
def running_suite(port=8369, template=None):
    """The suite running (run.sh) on a throwaway copy of the benchmark database.

    What a run stores never reaches the template the other scripts copy, and the copy's daily
    "start scheduled pulls" job is switched off: on a fresh copy it would start every demo pull
    in the middle of the measurement. Yields the URL, the process and the copy's name.
    """
    template = template or dbname("hc_bench")
    ensure_database(template)
    db = f"{template}_run"
    copy_database(template, db)
    subprocess.run(["psql", "-d", db, "-qc", "UPDATE ir_cron SET active = false WHERE id = (SELECT res_id FROM "
                    "ir_model_data WHERE module = 'hc_integration_base' AND name = 'ir_cron_hc_scheduled_pulls')"],
                   check=True, capture_output=True)
    var = ROOT / "var"
    shutil.copyfile(var / f"{template}.addons.sha256", var / f"{db}.addons.sha256")  # run.sh: no upgrade
    env = {**os.environ, "HC_HTTP_PORT": str(port), "HC_GEVENT_PORT": str(port + 3), "HC_DEMO_DB": db,
           "HC_CONF": str(var / f"odoo-{db}.conf")}
    process = subprocess.Popen(["bash", str(ROOT / "setup" / "run.sh")], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if "Press Ctrl+C to stop" in line:
                break
            if process.poll() is not None:
                raise RuntimeError("setup/run.sh stopped: " + (line or ""))
        requests.get(f"{url}/web/health", timeout=10).raise_for_status()
        yield url, process, db
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        subprocess.run(["dropdb", "--if-exists", "--force", db], check=False, capture_output=True)
