"""Run Python inside Odoo (``odoo-bin shell``) on a database of the suite, as its own process.

Benchmarks use it to measure in a process of their own (memory figures are per process) and
to prepare data with the ORM while a server runs. What runs there is a function of a real module
(``_pull_driver``, ``_reconcile_driver``, ``tests/reliability/_in_odoo``): it reads its parameters
from the environment and prints one ``RESULT {json}`` line.
"""

import json
import os
import socket
import subprocess

from _common import ROOT, dbname

ADDONS = "hc_integration_base,hc_procurement_sync,hc_inventory_sync"


def _setup_env():
    """ODOO source, python and config as setup/lib.sh resolves them."""
    script = f'source "{ROOT}/setup/lib.sh" >/dev/null; echo "$PY"; odoo_src; echo; echo "$HC_CONF"'
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True).stdout.split()
    return out[0], out[1], out[2]


def _fingerprint():
    """The addons' code as setup/run.sh fingerprints it (both keep the same stamp file)."""
    script = ("find . -type f -not -path '*/__pycache__/*' -print0 | sort -z | xargs -0 sha256sum "
              "| sha256sum | cut -d' ' -f1")
    return subprocess.run(["bash", "-c", script], cwd=ROOT / "addons", capture_output=True, text=True,
                          check=True).stdout.strip()


def suite_addons():
    """Every addon of the suite, as setup/lib.sh lists them (HC_ADDONS)."""
    script = f'source "{ROOT}/setup/lib.sh" >/dev/null; echo "$HC_ADDONS"'
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True).stdout.strip()


def suite_template():
    """The database with every addon of the suite and demo data that the acceptance tests copy
    (``HC_SUITE_TEMPLATE``, else ``hc_suite`` with this checkout's prefix): installed once for all."""
    return os.environ.get("HC_SUITE_TEMPLATE") or dbname("hc_suite")


def ensure_database(db, addons=ADDONS):
    """A database with ``addons`` (comma-separated; the benchmarks' three by default) and demo
    data, matching this checkout: created once (a minute or more), upgraded when the addons
    changed since (as setup/run.sh does), addons new in this checkout installed on the way."""
    python, src, conf = _setup_env()
    subprocess.run(["bash", str(ROOT / "setup" / "bootstrap.sh")], check=True, capture_output=True)
    names = addons.split(",")
    query = ("select count(*) from ir_module_module where name in ('" + "','".join(names) + "') "
             "and state = 'installed'")
    found = subprocess.run(["psql", "-d", db, "-tAc", query], capture_output=True, text=True, check=False)
    stamp = ROOT / "var" / f"{db}.addons.sha256"
    fingerprint = _fingerprint()
    exists = subprocess.run(["psql", "-d", db, "-tAc", "select 1 from ir_module_module limit 1"],
                            capture_output=True, text=True, check=False).stdout.strip() == "1"
    if found.stdout.strip() == str(len(names)) and stamp.exists() and stamp.read_text().strip() == fingerprint:
        return db
    if exists and found.stdout.strip() != "0":
        action = ["-i", addons, "-u", addons]
    else:
        subprocess.run(["dropdb", "--if-exists", db], check=False, capture_output=True)
        subprocess.run(["createdb", db], check=True, capture_output=True)
        action = ["-i", addons, "--with-demo"]
    subprocess.run([python, f"{src}/odoo-bin", "-c", conf, "-d", db, *action, "--stop-after-init",
                    "--workers", "0", "--max-cron-threads", "0", "--http-port", str(_free_port()),
                    "--log-level", "warn"], check=True, capture_output=True)
    stamp.parent.mkdir(exist_ok=True)
    stamp.write_text(fingerprint + "\n")
    return db


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# What an administrator does on a copy that must call the simulators: confirm its backends
# (hc.backend.action_confirm_database), here straight in SQL since no server runs yet.
CONFIRM_BACKENDS = (
    "UPDATE hc_backend SET configured_database = current_database() || ':' || "
    "(SELECT value FROM ir_config_parameter WHERE key = 'database.uuid')"
)


def copy_database(template, name):
    """A copy of ``template`` named ``name`` whose backends are confirmed to call their systems:
    a copied database otherwise makes no outbound call (it could be a production backup)."""
    subprocess.run(["dropdb", "--if-exists", "--force", name], check=True, capture_output=True)
    subprocess.run(["createdb", "-T", template, name], check=True, capture_output=True)
    subprocess.run(["psql", "-d", name, "-qc", CONFIRM_BACKENDS], check=True, capture_output=True)
    return name


def run_on_copy(template, name, target, simulator, **params):
    """``run_in_odoo(name, target, **params)`` on ``name``, a throwaway copy of ``template``, while
    ``simulator`` (already started; anything with a ``stop()``) serves it: one way of a benchmark,
    in a database and a process of its own. The copy and the simulator are gone afterwards."""
    try:
        return run_in_odoo(copy_database(template, name), target, **params)
    finally:
        simulator.stop()
        subprocess.run(["dropdb", "--if-exists", "--force", name], check=False, capture_output=True)


def run_in_odoo(db, target, **params):
    """Run ``target`` (``"module:function"``, a module of tests/bench or tests/reliability) in
    ``odoo-bin shell`` on ``db``: the shell imports the module and calls ``function(env)``, with
    ``params`` as ``HC_BENCH_<NAME>`` environment variables. Returns what it printed after ``RESULT``."""
    module, _, function = target.partition(":")
    python, src, conf = _setup_env()
    env = {**os.environ, **{f"HC_BENCH_{k.upper()}": str(v) for k, v in params.items()}}
    folders = [str(ROOT / "tests" / "bench"), str(ROOT / "tests" / "reliability")]
    launcher = f"import sys\nsys.path[:0] = {folders!r}\nimport {module}\n{module}.{function or 'main'}(env)\n"
    result = subprocess.run(
        [python, f"{src}/odoo-bin", "shell", "-c", conf, "-d", db, "--no-http", "--log-level", "warn",
         "--max-cron-threads", "0"],
        input=launcher, capture_output=True, text=True, env=env, check=False, timeout=3600,
    )
    for line in result.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError(f"odoo shell printed no result:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
