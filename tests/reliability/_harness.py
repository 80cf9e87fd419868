"""Shared parts of the reliability scripts: a copy of the benchmark database, the simulators and
Odoo servers (workers + queue_job runner) as processes that can be killed, and SQL checks."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg2
import requests

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE.parent / "bench"))

from _odoo_shell import _setup_env, ensure_database, run_in_odoo  # noqa: E402

TEMPLATE = "hc_bench"
COMMON = (HERE.parent / "bench" / "_in_odoo_common.py").read_text()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url, timeout=120, process=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process stopped while starting ({url})")
        try:
            requests.get(url, timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def fresh_database(name):
    """A copy of the benchmark database (three addons, demo data) for one round."""
    ensure_database(TEMPLATE)
    subprocess.run(["dropdb", "--if-exists", "--force", name], check=True, capture_output=True)
    subprocess.run(["createdb", "-T", TEMPLATE, name], check=True, capture_output=True)
    return name


def copy_database(template, name):
    subprocess.run(["dropdb", "--if-exists", "--force", name], check=True, capture_output=True)
    subprocess.run(["createdb", "-T", template, name], check=True, capture_output=True)
    return name


def drop_database(name):
    subprocess.run(["dropdb", "--if-exists", "--force", name], check=False, capture_output=True)


def in_odoo(db, code, **params):
    return run_in_odoo(db, COMMON + code, **params)


class Simulators:
    def __init__(self, items=500, suppliers=40, extra=()):
        self.rest_port, self.soap_port = free_port(), free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "legacy_sim", "--host", "127.0.0.1", "--rest-port", str(self.rest_port),
             "--soap-port", str(self.soap_port), "--items", str(items), "--suppliers", str(suppliers), *extra],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        self.rest_url = f"http://127.0.0.1:{self.rest_port}"
        self.wsdl_url = f"http://127.0.0.1:{self.soap_port}/procurement?wsdl"
        wait_http(self.rest_url + "/health", process=self.process)

    def admin(self, path, body=None):
        answer = requests.post(self.rest_url + path, json=body or {}, timeout=10)
        answer.raise_for_status()
        return answer.json()

    def state(self):
        return requests.get(self.rest_url + "/_admin/state", timeout=10).json()

    def orders(self):
        return requests.get(self.rest_url + "/api/v1/purchase-orders", headers={"X-API-Key": "sim-api-key"},
                            timeout=30).json()["items"]

    def stop(self):
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait()


class OdooServer:
    """``odoo-bin`` with workers and the queue_job runner, in its own process group."""

    def __init__(self, db, workers=2, port=None, runner=True, logname=None):
        self.db, self.workers, self.runner = db, workers, runner
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = ROOT / "var" / (logname or f"{db}-{self.port}.log")
        self.process = None

    def start(self, env_extra=None):
        python, src, conf = _setup_env()
        args = [python, f"{src}/odoo-bin", "-c", conf, "-d", self.db, "--db-filter", f"^{self.db}$",
                "--http-port", str(self.port), "--gevent-port", str(free_port()), "--workers", str(self.workers),
                "--max-cron-threads", "0", "--logfile", str(self.log)]
        if not self.runner:
            args += ["--load", "base,web"]
        env = {**os.environ, **(env_extra or {})}
        self.process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        start_new_session=True)
        wait_http(self.url + "/web/health", process=self.process)
        return self

    def kill(self):
        """SIGKILL to every process of the server (workers, runner): a crash, no clean-up."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


def query(db, sql, params=None):
    with psycopg2.connect(dbname=db) as connection, connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    connection.close()
    return rows


def scalar(db, sql, params=None):
    return query(db, sql, params)[0][0]


def wait_until_drained(db, timeout=600, settle=3.0):
    """No integration job left to run and no message short of a final state, for ``settle`` s."""
    deadline = time.monotonic() + timeout
    quiet_since = None
    while time.monotonic() < deadline:
        busy = scalar(db, """
            SELECT (SELECT count(*) FROM queue_job WHERE state IN ('wait_dependencies', 'pending', 'enqueued',
                                                                    'started'))
                 + (SELECT count(*) FROM hc_message WHERE state IN ('new', 'queued', 'processing',
                                                                     'failed_retrying'))
                 + (SELECT count(*) FROM hc_batch_run WHERE state = 'running')""")
        if busy == 0:
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since >= settle:
                return True
        else:
            quiet_since = None
        time.sleep(0.5)
    return False


def table(headers, rows):
    widths = [max(len(str(x)) for x in column) for column in zip(headers, *rows, strict=True)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    print(line.format(*headers))
    print(line.format(*("-" * w for w in widths)))
    for row in rows:
        print(line.format(*row))
