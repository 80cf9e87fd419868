from odoo.addons.hc_integration_base.tests.common import HcIntegrationMixin
from odoo.addons.queue_job.tests.common import trap_jobs

from legacy_sim import cmms as cmms_sim  # noqa: F401 - importable: the base addon's tests.common puts the repo on sys.path

# The cost centres the simulated assets are booked on (the HR system's master, loaded another way here).
COST_CENTRES = {"CC-4110": "Laboratory", "CC-4130": "Emergency", "CC-4140": "Intensive care",
                "CC-4150": "Radiology", "CC-4160": "Maintenance"}


class MaintenanceMixin(HcIntegrationMixin):
    """The CMMS simulator (18 assets, 3 generated work orders) on a free loopback port, the demo
    CMMS backend and flows pointed at it, the cost centres of its assets in the cost-centre plan."""

    ASSETS = 18

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cmms = cmms_sim.start_cmms(port=0, assets=cls.ASSETS, work_orders=3)
        cls.addClassCleanup(cls.cmms.stop)
        cls.backend = cls.env.ref("hc_maintenance_sync.demo_backend_cmms")
        cls.backend.write({"base_url": cls.cmms.url, "breaker_threshold": 100})
        cls.equipment_flow = cls.env.ref("hc_maintenance_sync.demo_flow_equipment")
        cls.events = cls.env.ref("hc_maintenance_sync.demo_flow_work_orders")
        cls.events_pull = cls.env.ref("hc_maintenance_sync.demo_flow_work_orders_pull")
        cls.status_push = cls.env.ref("hc_maintenance_sync.demo_flow_status_push")
        cls.equipment_flow.page_size = 7  # 3 pages
        plan = cls.env.ref("hc_workforce_sync.analytic_plan_cost_centres")
        Account = cls.env["account.analytic.account"]
        cls.cost_centres = {code: Account.search([("code", "=", code), ("plan_id", "=", plan.id)]) or Account.create(
            {"code": code, "name": name, "plan_id": plan.id}) for code, name in COST_CENTRES.items()}
        cls.team_biomed = cls.env.ref("hc_maintenance_sync.demo_team_biomed")
        cls.team_critical = cls.env.ref("hc_maintenance_sync.demo_team_critical")
        cls.team_facilities = cls.env.ref("hc_maintenance_sync.demo_team_facilities")
        cls.stage_new = cls.env.ref("maintenance.stage_0")
        cls.stage_progress = cls.env.ref("maintenance.stage_1")
        cls.stage_done = cls.env.ref("maintenance.stage_3")

    def setUp(self):
        super().setUp()
        self.cmms.reset()

    def equipment(self, code):
        return self.env["maintenance.equipment"].with_context(active_test=False).search([("hc_code", "=", code)])

    def event(self, **values):
        """A work order in the CMMS's dialect (a breakdown of a ventilator by default)."""
        return {"wonum": "WO-90001", "worktype": "EM", "assetnum": "AST-1002", "description": "Ventilator alarm",
                "location": "ER-GF", "siteid": "NORTH", "wopriority": 2,
                "reportdate": "2026-12-01T09:15:00+01:00", "status": "WAPPR", **values}

    def post(self, work_order):
        """A work order posted by the CMMS (it then knows it), as the inbound API stores it; returns the
        message and the jobs queued (not run)."""
        self.cmms.state.plant(work_order)
        with trap_jobs() as trap:
            message = self.receive(self.events, work_order, jobs=None, external_id=work_order["wonum"])
            jobs = list(trap.enqueued_jobs)
        return message, jobs

    def attempt(self, message):
        """Run ``message``'s job once: the RetryableJobError that postponed it, or None."""
        return self.run_job(message)[1]

    def request_of(self, wonum):
        return self.env["maintenance.request"].search([("hc_work_order", "=", wonum)])

    def move(self, request, stage):
        """Move a request to a stage as a planner does; returns the status messages queued."""
        before = self.env["hc.message"].search([("flow_id", "=", self.status_push.id)])
        with trap_jobs() as trap:
            request.write({"stage_id": stage.id})
            self.env.flush_all()
            jobs = list(trap.enqueued_jobs)
        queued = self.env["hc.message"].search([("flow_id", "=", self.status_push.id)]) - before
        return queued, jobs
