"""Run inside Odoo by bench_workforce.py (``run_in_odoo(db, "_workforce_driver:main")``): the HR
system's N employees brought into hr.employee two ways, after its cost centres and departments:

- designed: the nightly employee pull of the demo (pages of 1,000, one job each, bindings, content
            hashes, manager links, the department, job title and cost centre on the employee's
            version, payroll keys never read);
- native:   Odoo's own import of the same employees (load() in chunks of 1,000 rows as the
            administrator, history not tracked, as the import screen runs it), with fewer
            columns: no manager link nor cost centre (both need records load() cannot name).
"""

import time

from _in_odoo_common import cpu_seconds, fetch_all, params, pull, reset_peak, result, status, timed_load

FIELDS = ["hc_employee_code", "name", "work_email", "department_id/.id", "job_title"]


def counts(env):
    return env["hr.employee"].with_context(active_test=False).search_count([("hc_employee_code", "=like", "E%")])


def native(env, url):
    departments = {d.hc_code: d.id for d in env["hr.department"].search([("hc_code", "!=", False)])}
    rows = [[e["identifier"], e["name"], e["work_email"], str(departments[e["department_code"]]), e["job_title"]]
            for e in fetch_all(url, "employees")]
    Employee = env["hr.employee"].with_user(env.ref("base.user_admin")).with_context(tracking_disable=True)
    baseline, elapsed, cpu, errors = timed_load(env, Employee, FIELDS, rows)
    return baseline, elapsed, cpu, 0, status("VmRSS:"), errors


def designed(env):
    baseline = reset_peak()
    started, cpu = time.perf_counter(), cpu_seconds(env)
    jobs, sampled = pull(env, "hc_workforce_sync.demo_flow_employees")
    return baseline, time.perf_counter() - started, cpu_seconds(env) - cpu, jobs, sampled, []


def main(env):
    given = params()
    mode, url = given["mode"], given["hr_url"]
    env.ref("hc_workforce_sync.demo_backend_hr").write({"base_url": url, "read_timeout": 60})
    pull(env, "hc_workforce_sync.demo_flow_cost_centres")
    pull(env, "hc_workforce_sync.demo_flow_departments")
    env.ref("hc_workforce_sync.demo_flow_employees").page_size = 1000
    env.cr.commit()
    before = counts(env)
    way = native if mode == "native" else designed
    baseline, elapsed, cpu, jobs, sampled, errors = way(env, url) if mode == "native" else way(env)
    failed = env["hc.message"].search_count([("flow_id", "=", env.ref("hc_workforce_sync.demo_flow_employees").id),
                                             ("state", "=", "exception")])
    result(mode=mode, seconds=elapsed, cpu_seconds=cpu, employees=counts(env) - before, jobs=jobs,
           errors=len(errors) + failed, baseline_mib=baseline, peak_mib=status("VmHWM:"), sampled_mib=sampled)
