"""Helpers of the code the benchmarks and reliability scripts run inside Odoo.

The drivers (``_pull_driver``, ``_reconcile_driver``, ``tests/reliability/_in_odoo``) are plain
modules: ``_odoo_shell.run_in_odoo(db, "module:function")`` starts ``odoo-bin shell`` on the
database, imports the module and calls ``function(env)``. Parameters come from ``HC_BENCH_*``
environment variables (``params()``); a driver prints its figures as one ``RESULT {json}`` line
(``result()``).
"""

import gc
import json
import os
import time

import requests

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.job import Job

JOB_MODELS = ("hc.batch.run", "hc.message", "hc.reconciliation")


def params():
    """``{name: text}`` of the ``HC_BENCH_<NAME>`` environment variables ``run_in_odoo`` set."""
    return {key[9:].lower(): value for key, value in os.environ.items() if key.startswith("HC_BENCH_")}


def status(key):
    """A /proc/self/status figure in MiB (VmRSS: now, VmHWM: peak)."""
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(key):
                return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(env):
    """CPU seconds spent so far by this process and by the PostgreSQL backend of its cursor: the
    work of a run, whatever else the machine is doing (wall-clock time is not, on a shared one)."""
    env.cr.execute("SELECT pg_backend_pid()")
    pid = env.cr.fetchone()[0]
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        backend = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
    except OSError:  # the database on another host: this process alone
        backend = 0.0
    times = os.times()
    return times.user + times.system + backend


def fetch_all(url, resource, page_size=1000):
    """Every record of a simulator's paged REST resource (``/api/v1/<resource>``): the rows a
    benchmark gives Odoo's own import, read before its clock starts, like a file on disk."""
    session, rows, page = requests.Session(), [], 1
    while True:
        body = session.get(f"{url}/api/v1/{resource}", params={"page": page, "page_size": page_size},
                           headers={"X-API-Key": "sim-api-key"}, timeout=60).json()
        rows += body["items"]
        if not body.get("next_page"):
            return rows
        page += 1


def timed_load(env, model, fields, rows, chunk=1000):
    """Odoo's own import of ``rows`` into ``model`` (a recordset carrying the user and context of
    the import), in chunks of ``chunk`` rows each committed, as the import screen sends them:
    ``(RSS before in MiB, seconds, CPU seconds, error messages)``."""
    baseline = reset_peak()
    started, cpu = time.perf_counter(), cpu_seconds(env)
    errors = []
    for start in range(0, len(rows), chunk):
        answer = model.load(fields, rows[start:start + chunk])
        errors += [m for m in answer["messages"] if m.get("type") == "error"]
        env.cr.commit()
        env.invalidate_all()
    return baseline, time.perf_counter() - started, cpu_seconds(env) - cpu, errors


def reset_peak():
    gc.collect()
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")  # the peak (VmHWM) starts again from the current size
    return status("VmRSS:")


def drain(env):
    """Run the integration's pending jobs one after the other, each in its own transaction, as
    the job runner does; return how many ran and the largest RSS seen after one."""
    ran, largest = 0, status("VmRSS:")
    while True:
        pending = env["queue.job"].search([("state", "=", "pending"), ("model_name", "in", JOB_MODELS)],
                                          order="priority, id", limit=1)
        if not pending:
            return ran, largest
        job = Job.load(env, pending.uuid)
        job.set_started()
        job.store()
        env.cr.commit()
        try:
            job.set_done(result=job.perform())
        except RetryableJobError as exc:
            env.cr.rollback()
            job.postpone(result=str(exc), seconds=0)
            job.set_pending(reset_retry=False)
        job.store()
        env.cr.commit()
        env.invalidate_all()
        ran += 1
        largest = max(largest, status("VmRSS:"))


def pull(env, xmlid):
    """Pull the flow now and run its jobs to the end (here, in this process)."""
    env.ref(xmlid).action_pull_now()
    env.cr.commit()
    return drain(env)


def point_backends_at(env, url, wsdl=None):
    env["hc.backend"].browse(env.ref("hc_integration_base.demo_backend_rest").id).write(
        {"base_url": url, "read_timeout": 60})
    if wsdl:
        env["hc.backend"].browse(env.ref("hc_integration_base.demo_backend_soap").id).write({"wsdl_url": wsdl})


def result(**values):
    print("RESULT " + json.dumps(values))
