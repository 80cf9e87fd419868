from contextlib import contextmanager
from unittest.mock import patch

from odoo.addons.hc_integration_base.tests.common import SimulatorMixin
from odoo.addons.queue_job.tests.common import trap_jobs

from legacy_sim import hr as hr_sim  # noqa: F401 - importable: the base addon's tests.common puts the repo on sys.path

# The records the workforce flows write, and how many times each was written in a block.
WRITTEN_MODELS = ("account.analytic.account", "hr.department", "hr.employee", "hr.version", "hr.job")


class WorkforceMixin(SimulatorMixin):
    """The HR simulator (40 employees in 10 departments, 11 cost centres) on a free loopback port,
    the demo HR backend pointed at it."""

    EMPLOYEES = 40

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.hr = hr_sim.start_hr_simulator(port=0, employees=cls.EMPLOYEES)
        cls.addClassCleanup(cls.hr.stop)
        cls.backend = cls.env.ref("hc_workforce_sync.demo_backend_hr")
        cls.backend.write({"base_url": cls.hr.url})
        cls.cost_centres = cls.env.ref("hc_workforce_sync.demo_flow_cost_centres")
        cls.departments = cls.env.ref("hc_workforce_sync.demo_flow_departments")
        cls.employees = cls.env.ref("hc_workforce_sync.demo_flow_employees")
        cls.events = cls.env.ref("hc_workforce_sync.demo_flow_employee_events")
        cls.employees.page_size = 15  # 3 pages

    def pull(self, flow):
        """A pull with its jobs executed (as the backend's integration user, as in production)."""
        with trap_jobs() as trap:
            run = self.env["hc.batch.run"].browse(flow.action_pull_now()["res_id"])
            while trap.enqueued_jobs:
                trap.perform_enqueued_jobs()
        return run

    def employee(self, identifier):
        return self.env["hr.employee"].with_context(active_test=False).search(
            [("hc_employee_code", "=", identifier)])

    @contextmanager
    def count_writes(self):
        """``{model: number of create and write calls}`` made on the workforce models in the block."""
        counts = dict.fromkeys(WRITTEN_MODELS, 0)
        patches = []
        for name in WRITTEN_MODELS:
            cls = type(self.env[name])
            for method in ("create", "write"):
                original = getattr(cls, method)

                def counted(records, *args, _original=original, _name=name, **kwargs):
                    counts[_name] += 1
                    return _original(records, *args, **kwargs)

                patches.append(patch.object(cls, method, counted))
        for active in patches:
            active.start()
        try:
            yield counts
        finally:
            for active in patches:
                active.stop()
