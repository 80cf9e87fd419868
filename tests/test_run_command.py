"""The README's run command brings up a demo server wired to the simulators."""

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
PORT = int(os.environ.get("HC_RUNTEST_PORT", "8269"))
DB = os.environ.get("HC_RUNTEST_DB", "hc_runtest")


def _rpc(session, url, model, method, args, kwargs=None):
    payload = {"jsonrpc": "2.0", "method": "call",
               "params": {"model": model, "method": method, "args": args, "kwargs": kwargs or {}}}
    response = session.post(f"{url}/web/dataset/call_kw/{model}/{method}", json=payload, timeout=60)
    body = response.json()
    assert "error" not in body, body
    return body["result"]


def test_run_command_serves_demo_database():
    subprocess.run(["dropdb", "--if-exists", DB], check=True)  # the run command creates it
    env = {
        **os.environ,
        "HC_HTTP_PORT": str(PORT),
        "HC_GEVENT_PORT": str(PORT + 3),
        "HC_DEMO_DB": DB,
        "HC_CONF": str(ROOT / "var" / "odoo-runtest.conf"),
    }
    process = subprocess.Popen(
        ["bash", str(ROOT / "setup" / "run.sh")], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True,
    )
    url = f"http://127.0.0.1:{PORT}"
    try:
        deadline = time.monotonic() + 600
        output = []
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if line:
                output.append(line)
            if "Press Ctrl+C to stop" in line:
                break
            assert process.poll() is None, "".join(output)
        assert requests.get(f"{url}/web/health", timeout=10).status_code == 200
        printed = "".join(output)
        assert f"{url}/odoo" in printed and "admin / admin" in printed

        session = requests.Session()
        login = session.post(f"{url}/web/session/authenticate", json={
            "jsonrpc": "2.0", "params": {"db": DB, "login": "admin", "password": "admin"}}, timeout=60)
        assert login.json().get("result", {}).get("uid"), login.text
        modules = _rpc(session, url, "ir.module.module", "search_read",
                       [[["name", "like", "hc_%"], ["state", "=", "installed"]]], {"fields": ["name"]})
        assert {m["name"] for m in modules} >= {"hc_integration_base", "hc_procurement_sync", "hc_inventory_sync"}
        backends = _rpc(session, url, "hc.backend", "search_read", [[]], {"fields": ["protocol", "code"]})
        assert {b["protocol"] for b in backends} == {"rest", "soap"}
        # Pressing Test connection on each demo backend reaches the running simulators.
        for backend in backends:
            _rpc(session, url, "hc.backend", "action_test_connection", [[backend["id"]]])
        results = _rpc(session, url, "hc.backend", "read", [[b["id"] for b in backends]],
                       {"fields": ["code", "last_test_ok", "last_test_message"]})
        assert all(r["last_test_ok"] for r in results), json.dumps(results, indent=1)
        # A sync button moves real data: the demo supplier pull runs through the job runner.
        flow = _rpc(session, url, "hc.flow", "search_read", [[["code", "=", "supplier_master"]]], {"fields": ["id"]})[0]
        action = _rpc(session, url, "hc.flow", "action_pull_now", [[flow["id"]]])
        run_id = action["res_id"]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            run = _rpc(session, url, "hc.batch.run", "read", [[run_id]],
                       {"fields": ["state", "progress", "count_created", "count_unchanged", "pages_fetched"]})[0]
            if run["state"] != "running" and run["progress"] >= 100:
                break
            time.sleep(1)
        assert run["state"] == "done" and run["progress"] == 100, run
        assert run["count_created"] + run["count_unchanged"] == 40, run
        vendors = _rpc(session, url, "res.partner", "search_count",
                       [[["ref", "like", "SUP-"], ["supplier_rank", ">", 0]]])
        assert vendors == 40
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
