"""The README's run command brings up a demo server wired to the simulators, and every Odoo
process it starts (HTTP workers, the queue_job runner, the cron worker, the gevent process
serving /websocket, the job node running the jobs) stays up without a traceback over its first
minute."""

import json
import os
import random
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import requests
import websocket

from legacy_sim import hl7_peer

ROOT = Path(__file__).resolve().parent.parent
PORT = int(os.environ.get("HC_RUNTEST_PORT", "8269"))
GEVENT_PORT = PORT + 3
DB = os.environ.get("HC_RUNTEST_DB", "hc_runtest")
UP_FOR = 60  # seconds the server runs, busy, before its log is judged
# A line of the server log that means something broke: a traceback, or Odoo's ERROR/CRITICAL level
# ("<date> <time> <pid> ERROR <db> <logger>: ...").
BAD_LOG_LINE = re.compile(r"Traceback|^\S+ \S+ \d+ (ERROR|CRITICAL) ")


def _rpc(session, url, model, method, args, kwargs=None):
    payload = {"jsonrpc": "2.0", "method": "call",
               "params": {"model": model, "method": method, "args": args, "kwargs": kwargs or {}}}
    response = session.post(f"{url}/web/dataset/call_kw/{model}/{method}", json=payload, timeout=60)
    body = response.json()
    assert "error" not in body, body
    return body["result"]


def _pull_and_wait(session, url, flow_code):
    flow = _rpc(session, url, "hc.flow", "search_read", [[["code", "=", flow_code]]], {"fields": ["id"]})[0]
    action = _rpc(session, url, "hc.flow", "action_pull_now", [[flow["id"]]])
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        run = _rpc(session, url, "hc.batch.run", "read", [[action["res_id"]]],
                   {"fields": ["state", "progress", "count_created", "count_unchanged", "pages_fetched"]})[0]
        if run["state"] != "running" and run["progress"] >= 100:
            break
        time.sleep(1)
    return run


def _assert_realtime_channel(session, url, uid, port):
    """What the web client does: open /websocket (a real RFC 6455 handshake with the session cookie
    and an Origin, which Odoo requires), subscribe, and receive a notification that an HTTP worker
    sent through the bus after a settings change."""
    try:
        ws = websocket.create_connection(
            f"ws://127.0.0.1:{port}/websocket", timeout=20, origin=url,
            cookie=f"session_id={session.cookies['session_id']}",
        )
    except (OSError, websocket.WebSocketException) as exc:
        raise AssertionError(f"/websocket on port {port} does not answer a websocket handshake: {exc!r}") from exc
    try:
        assert ws.getstatus() == 101, ws.getstatus()
        ws.send(json.dumps({"event_name": "subscribe", "data": {"channels": [], "last": 0}}))
        time.sleep(1)  # the subscription is served by the gevent process before the change is sent
        settings = _rpc(session, url, "res.users.settings", "search_read", [[["user_id", "=", uid]]],
                        {"fields": ["id"]})
        settings_id = settings[0]["id"] if settings else _rpc(
            session, url, "res.users.settings", "create", [{"user_id": uid}])
        marker = random.randint(1000, 99999)
        _rpc(session, url, "res.users.settings", "set_res_users_settings", [[settings_id]],
             {"new_settings": {"voice_active_duration": marker}})
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            for notification in json.loads(ws.recv()):
                message = notification.get("message", {})
                if (message.get("type") == "res.users.settings"
                        and message.get("payload", {}).get("voice_active_duration") == marker):
                    return
        raise AssertionError("the websocket never delivered the settings notification")
    finally:
        ws.close()


def _stop(process):
    """Stop the run command and every process it started (its own process group)."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)
    except ProcessLookupError:
        pass  # already gone: the assertion that saw it stop tells why
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def test_run_command_serves_demo_database(tmp_path):
    subprocess.run(["dropdb", "--if-exists", DB], check=True)  # the run command creates it
    log = tmp_path / "odoo.log"  # this run's server log only
    env = {
        **os.environ,
        "HC_HTTP_PORT": str(PORT),
        "HC_GEVENT_PORT": str(GEVENT_PORT),
        "HC_DEMO_DB": DB,
        "HC_CONF": str(ROOT / "var" / f"odoo-runtest-{PORT}.conf"),
        "HC_LOG": str(log),
    }
    process = subprocess.Popen(
        ["bash", str(ROOT / "setup" / "run.sh")], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True,
    )
    # Read the run's output all along: what an Odoo process prints before its logging is set up
    # (an import error of the gevent process, for one) goes there and not to the log file.
    output, ready = [], threading.Event()

    def read_output():
        for line in process.stdout:
            output.append(line)
            if "Press Ctrl+C to stop" in line:
                ready.set()

    reader = threading.Thread(target=read_output, daemon=True)
    reader.start()
    url = f"http://127.0.0.1:{PORT}"
    try:
        deadline = time.monotonic() + 600
        while not ready.wait(1):
            assert process.poll() is None and time.monotonic() < deadline, "".join(output)
        up_since = time.monotonic()
        assert requests.get(f"{url}/web/health", timeout=10).status_code == 200
        printed = "".join(output)
        assert f"{url}/odoo" in printed and "admin / admin" in printed

        session = requests.Session()
        login = session.post(f"{url}/web/session/authenticate", json={
            "jsonrpc": "2.0", "params": {"db": DB, "login": "admin", "password": "admin"}}, timeout=60)
        uid = login.json().get("result", {}).get("uid")
        assert uid, login.text
        modules = _rpc(session, url, "ir.module.module", "search_read",
                       [[["name", "like", "hc_%"], ["state", "=", "installed"]]], {"fields": ["name"]})
        assert {m["name"] for m in modules} >= {"hc_integration_base", "hc_procurement_sync", "hc_inventory_sync"}
        backends = _rpc(session, url, "hc.backend", "search_read", [[]], {"fields": ["protocol", "code"]})
        assert {b["protocol"] for b in backends} == {"rest", "soap", "mllp"}
        # Pressing Test connection on each demo backend reaches the running simulators.
        for backend in backends:
            _rpc(session, url, "hc.backend", "action_test_connection", [[backend["id"]]])
        results = _rpc(session, url, "hc.backend", "read", [[b["id"] for b in backends]],
                       {"fields": ["code", "last_test_ok", "last_test_message"]})
        assert all(r["last_test_ok"] for r in results), json.dumps(results, indent=1)
        # A sync button moves real data: the demo supplier pull runs through the job runner.
        run = _pull_and_wait(session, url, "supplier_master")
        assert run["state"] == "done" and run["progress"] == 100, run
        assert run["count_created"] + run["count_unchanged"] == 40, run
        vendors = _rpc(session, url, "res.partner", "search_count",
                       [[["ref", "like", "SUP-"], ["supplier_rank", ">", 0]]])
        assert vendors == 40
        # The MLLP listener the run command started takes the HL7 system's item master: AA, then items.
        ack = hl7_peer.send("127.0.0.1", 2576, hl7_peer.mfn_m16("RUNCMD-1"))
        assert ack and "MSA|AA|RUNCMD-1" in ack, ack
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and _rpc(session, url, "hc.message", "search_count", [[
                ["idempotency_key", "like", "RUNCMD-1@"], ["state", "=", "done"]]]) < 2:
            time.sleep(1)
        items = _rpc(session, url, "product.template", "search_read",
                     [[["default_code", "in", ["GZ-1010", "SY-0005"]]]], {"fields": ["default_code"]})
        assert sorted(i["default_code"] for i in items) == ["GZ-1010", "SY-0005"], items
        # The real-time channel answers on the gevent port and where the web client opens it: on
        # the port it was loaded from.
        _assert_realtime_channel(session, url, uid, GEVENT_PORT)
        _assert_realtime_channel(session, url, uid, PORT)

        # Keep the server up and busy for its first minute (the job runner, the cron worker and the
        # gevent process all running), then the real-time channel must still answer.
        while time.monotonic() - up_since < UP_FOR:
            run = _pull_and_wait(session, url, "supplier_master")
            assert run["state"] == "done" and run["count_created"] + run["count_unchanged"] == 40, run
            time.sleep(5)
        _assert_realtime_channel(session, url, uid, PORT)
        assert process.poll() is None, "".join(output)

        text = log.read_text()
        for process_started in ("Worker WorkerCron", "Worker WorkerJobRunner", "Evented Service"):
            assert process_started in text, f"no {process_started!r} in {log}"
        # The jobs ran on the job node (its own log), whose runner stayed off: one runner per database.
        jobs = (tmp_path / "odoo-jobs.log").read_text()
        assert "/queue_job/runjob" in jobs and "/queue_job/runjob" not in text, "the pulls' jobs ran on the web node"
        assert "Worker WorkerJobRunner" not in jobs, "the job node started a second job runner"
        bad = [line for line in (text + jobs).splitlines() if BAD_LOG_LINE.search(line)]
        assert not bad, "the server logs of the run command hold errors:\n" + "\n".join(bad[:40])
        printed = "".join(output)
        assert "Traceback" not in printed, "the run command printed a traceback:\n" + printed[-6000:]
    finally:
        _stop(process)
        reader.join(10)


def test_run_command_refuses_a_wrong_job_node_priority():
    """A mistyped HC_JOB_NODE_NICE is named before anything starts: no database, no process."""
    db = f"{DB}_refused"
    subprocess.run(["dropdb", "--if-exists", db], check=True)
    env = {**os.environ, "HC_JOB_NODE_NICE": "ten", "HC_DEMO_DB": db, "HC_HTTP_PORT": str(PORT + 10)}
    done = subprocess.run(["bash", str(ROOT / "setup" / "run.sh")], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "HC_JOB_NODE_NICE=ten" in done.stderr and "0 to 19" in done.stderr and "off" in done.stderr, done.stderr
    exists = subprocess.run(["psql", "-d", "postgres", "-Atc", f"SELECT 1 FROM pg_database WHERE datname = '{db}'"],
                            capture_output=True, text=True, check=True).stdout.strip()
    assert not exists, "the run command created its database before refusing the setting"
