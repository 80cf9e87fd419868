"""Shared helpers of the benchmark scripts (run them from the repository root)."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import types
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
ADDON = ROOT / "addons" / "hc_integration_base"
# Prepended to the name of every database the benchmarks and reliability scripts create, so that
# two checkouts on one machine can run them at once without touching each other's databases.
DB_PREFIX = os.environ.get("HC_DB_PREFIX", "")


def dbname(name):
    """The name of database ``name`` for this checkout (``HC_DB_PREFIX`` + ``name``)."""
    return DB_PREFIX + name


def run_threads(target, count):
    """Run ``target`` in ``count`` threads at once, wait for them all; returns the seconds it took."""
    started = time.perf_counter()
    threads = [threading.Thread(target=target) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def plain_imports():
    """Make legacy_sim and the addon's ORM-free packages importable without Odoo."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    if "hc_integration_base" not in sys.modules:
        package = types.ModuleType("hc_integration_base")
        package.__path__ = [str(ADDON)]
        sys.modules["hc_integration_base"] = package


def table(headers, rows):
    widths = [max(len(str(x)) for x in column) for column in zip(headers, *rows, strict=True)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    print(line.format(*headers))
    print(line.format(*("-" * w for w in widths)))
    for row in rows:
        print(line.format(*row))


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
