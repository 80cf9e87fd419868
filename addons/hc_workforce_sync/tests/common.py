from odoo.addons.hc_integration_base.tests.common import HcIntegrationMixin

from legacy_sim import hr as hr_sim  # noqa: F401 - importable: the base addon's tests.common puts the repo on sys.path

# The records the workforce flows write, and how many times each was written in a block.
WRITTEN_MODELS = ("account.analytic.account", "hr.department", "hr.employee", "hr.version", "hr.job")


class WorkforceMixin(HcIntegrationMixin):
    """The HR simulator (40 employees in 10 departments, 11 cost centres) on a free loopback port,
    the demo HR backend pointed at it."""

    EMPLOYEES = 40

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.hr = hr_sim.start_hr_simulator(port=0, employees=cls.EMPLOYEES)
        cls.addClassCleanup(cls.hr.stop)
        cls.backend = cls.env.ref("hc_workforce_sync.demo_backend_hr")
        cls.backend.write({"base_url": cls.hr.url})
        cls.cost_centres = cls.env.ref("hc_workforce_sync.demo_flow_cost_centres")
        cls.departments = cls.env.ref("hc_workforce_sync.demo_flow_departments")
        cls.employees = cls.env.ref("hc_workforce_sync.demo_flow_employees")
        cls.events = cls.env.ref("hc_workforce_sync.demo_flow_employee_events")
        cls.employees.page_size = 15  # 3 pages

    def employee(self, identifier):
        return self.env["hr.employee"].with_context(active_test=False).search(
            [("hc_employee_code", "=", identifier)])
