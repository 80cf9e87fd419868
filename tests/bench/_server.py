"""Start the suite with setup/run.sh (demo database, simulators, Odoo with the job runner)."""

import os
import signal
import subprocess
import time
from contextlib import contextmanager

import requests
from _common import ROOT


@contextmanager
def running_suite(port=8369, db="hc_bench", fresh=False):
    if fresh:
        subprocess.run(["dropdb", "--if-exists", db], check=True)
    env = {**os.environ, "HC_HTTP_PORT": str(port), "HC_GEVENT_PORT": str(port + 3), "HC_DEMO_DB": db,
           "HC_CONF": str(ROOT / "var" / f"odoo-{db}.conf")}
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
        yield url, process
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
