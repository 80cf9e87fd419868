import re

from odoo.exceptions import AccessError, UserError
from odoo.tests import TransactionCase, new_test_user, tagged

from odoo.addons.hc_integration_base.tests.common import HcIntegrationCase
from odoo.addons.queue_job.tests.common import trap_jobs

from .common import MaintenanceMixin, cmms_sim


@tagged("post_install", "-at_install")
class TestEquipmentPull(MaintenanceMixin, TransactionCase):
    """The equipment master pulled from the CMMS through the demo flow's mapping (its paging by
    next-page links, ISO dates with offsets, priority 1 = critical), jobs executed."""

    def counts(self, run):
        return run.state, run.count_created, run.count_updated, run.count_unchanged, run.count_failed

    def test_pull_then_a_second_pull_writes_nothing(self):
        run = self.pull(self.equipment_flow)
        self.assertEqual(self.counts(run), ("done", self.ASSETS, 0, 0, 0))
        self.assertEqual(len(run.page_message_ids), 3)
        self.assertEqual([query.get("pageno", "1") for name, query in self.cmms.state.requests], ["1", "2", "3"])

        legacy = cmms_sim.asset_record(1)
        ventilator = self.equipment("AST-1002")
        self.assertEqual((ventilator.name, ventilator.serial_no), (legacy["description"], legacy["serialnum"]))
        self.assertEqual(ventilator.category_id, self.env.ref("hc_maintenance_sync.demo_category_ventilators"),
                         "a category of the code is adopted")
        self.assertEqual((ventilator.hc_location, ventilator.hc_site), ("ER-GF", "NORTH"))
        self.assertEqual(ventilator.hc_cost_center_id, self.cost_centres["CC-4130"])
        self.assertEqual((ventilator.partner_id.ref, ventilator.partner_id.name),
                         ("VND-02", legacy["vendor_description"]))
        self.assertEqual(ventilator.model, "Draeger")
        self.assertEqual(str(ventilator.warranty_date), legacy["warrantyexpdate"][:10])
        self.assertTrue(ventilator.hc_critical)
        self.assertEqual(ventilator.hc_sync_state, "in_sync")
        self.assertFalse(self.equipment("AST-1001").hc_critical)
        imaging = self.equipment("AST-1003").category_id
        self.assertEqual((imaging.name, imaging.hc_code, imaging.technician_user_id.id), ("Imaging", "IMAGING", False),
                         "a new category gets the CMMS's name and no technician (not the integration user)")
        decommissioned = self.equipment("AST-1017")
        self.assertTrue(decommissioned.exists())
        self.assertFalse(decommissioned.active, "decommissioned equipment is archived")
        vendors = self.env["maintenance.equipment"].with_context(active_test=False).search(
            [("hc_code", "like", "AST-%")]).partner_id
        self.assertEqual(len(vendors), 4, "one partner per vendor code")

        with self.count_writes("maintenance.equipment", "maintenance.equipment.category", "res.partner") as written:
            again = self.pull(self.equipment_flow)
        self.assertEqual(self.counts(again), ("done", 0, 0, self.ASSETS, 0))
        self.assertEqual(written, dict.fromkeys(written, 0), "an unchanged pull writes nothing")

        # The CMMS moves a pump: one update.
        self.cmms.state.asset_overrides["AST-1001"] = {"location": "ICU-3F"}
        moved = self.pull(self.equipment_flow)
        self.assertEqual(self.counts(moved), ("done", 0, 1, self.ASSETS - 1, 0))
        self.assertEqual(self.equipment("AST-1001").hc_location, "ICU-3F")

    def test_unknown_cost_centre_fails_naming_it(self):
        self.cmms.state.asset_overrides["AST-1001"] = {"glaccount": "CC-9999"}
        self.equipment_flow.page_size = 20
        run = self.pull(self.equipment_flow)
        self.assertEqual(run.page_message_ids.mapped("state"), ["exception"])
        self.assertIn("unknown cost centre CC-9999", run.page_message_ids.error_message)


    def test_work_orders_pulled_once(self):
        self.pull(self.equipment_flow)
        run = self.pull(self.events_pull)
        self.assertEqual(self.counts(run), ("done", 3, 0, 0, 0))
        legacy = [cmms_sim.work_order_record(i, self.ASSETS) for i in range(3)]
        requests = [self.request_of(wo["wonum"]) for wo in legacy]
        self.assertEqual([r.hc_event_type for r in requests], ["breakdown", "corrective", "preventive"])
        self.assertEqual([r.maintenance_type for r in requests], ["corrective", "corrective", "preventive"])
        self.assertEqual([r.equipment_id.hc_code for r in requests], [wo["assetnum"] for wo in legacy])
        self.assertEqual({r.maintenance_team_id for r in requests}, {self.team_biomed},
                         "no demo rule matches these: the flow's default team")
        self.assertEqual(str(requests[0].request_date), "2026-11-01", "the report date, in UTC")
        self.assertEqual(str(requests[2].schedule_date), "2026-12-03 06:00:00", "07:00+01:00 is 06:00 UTC")
        self.assertEqual([r.priority for r in requests], ["3", "3", "1"], "CMMS 1 urgent, 2 high, 4 low")
        self.assertFalse(requests[0].hc_urgent, "a breakdown of equipment that is not critical")
        with self.count_writes("maintenance.request") as written:
            again = self.pull(self.events_pull)
        self.assertEqual(self.counts(again), ("done", 0, 0, 3, 0))
        self.assertEqual(written, {"maintenance.request": 0})


@tagged("post_install", "-at_install")
class TestMaintenanceEvents(MaintenanceMixin, TransactionCase):
    """Work orders of the CMMS -> maintenance requests: routing rules (first match, default team),
    the technician from the equipment or its category, urgency of critical breakdowns."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["hc.maintenance.route"].search([]).active = False  # each test sets its own rules
        cls.equipment_flow.page_size = 20

    def setUp(self):
        super().setUp()
        self.pull(self.equipment_flow)
        self.ventilator, self.pump, self.air = (self.equipment(code) for code in ("AST-1002", "AST-1007", "AST-1004"))
        self.technician = self.env.ref("base.user_demo")

    def route(self, name, sequence, team, **criteria):
        return self.env["hc.maintenance.route"].create({"name": name, "sequence": sequence, "team_id": team.id,
                                                        **criteria})

    def apply(self, work_order):
        message, _jobs = self.post(work_order)
        self.attempt(message)
        self.assertEqual(message.state, "done", message.error_message)
        return message, self.request_of(work_order["wonum"])

    def test_first_matching_rule_wins(self):
        north = self.route("North site", 20, self.team_facilities, site="north")
        breakdowns = self.route("Ventilator breakdowns", 10, self.team_critical, event_type="breakdown",
                                category_id=self.ventilator.category_id.id)
        _message, request = self.apply(self.event())
        self.assertEqual((request.maintenance_team_id, request.hc_route_id), (self.team_critical, breakdowns))
        self.assertEqual(request.equipment_id, self.ventilator)
        self.assertEqual((request.hc_event_type, request.maintenance_type), ("breakdown", "corrective"))
        # Later in the sequence: the other rule, which matches too, wins.
        breakdowns.sequence = 30
        _message, second = self.apply(self.event(wonum="WO-90002"))
        self.assertEqual((second.maintenance_team_id, second.hc_route_id), (self.team_facilities, north))
        # A preventive work order of the pump: only the site rule matches (by the equipment's site).
        _message, preventive = self.apply(self.event(wonum="WO-90003", worktype="PM", assetnum="AST-1007",
                                                     location=None, siteid=None))
        self.assertEqual((preventive.hc_site, preventive.maintenance_type), ("NORTH", "preventive"))
        self.assertEqual(preventive.hc_route_id, north)
        self.assertEqual(north.request_count, 2)

    def test_location_category_and_priority_criteria(self):
        plant = self.route("Plant rooms", 10, self.team_facilities, location="plant")
        urgent = self.route("Urgent anything", 20, self.team_critical, min_priority="3")
        _message, air = self.apply(self.event(wonum="WO-91001", worktype="CM", assetnum="AST-1004",
                                              location="PLANT-B1", siteid="SOUTH", wopriority=3))
        self.assertEqual(air.hc_route_id, plant, "PLANT matches PLANT-B1")
        _message, pump = self.apply(self.event(wonum="WO-91002", worktype="CM", assetnum="AST-1007", wopriority=1))
        self.assertEqual((pump.priority, pump.hc_route_id), ("3", urgent), "priority urgent is Odoo's high")
        _message, low = self.apply(self.event(wonum="WO-91003", worktype="CM", assetnum="AST-1007", wopriority=4))
        self.assertFalse(low.hc_route_id)
        self.assertEqual(low.maintenance_team_id, self.team_biomed, "no rule matches: the flow's default team")

    def test_default_team_without_a_flow_default(self):
        self.events.hc_maintenance_team_id = False
        _message, request = self.apply(self.event(wonum="WO-92001", worktype="CM", assetnum="AST-1007"))
        first = self.env["maintenance.team"].search([("company_id", "in", [self.env.company.id, False])],
                                                    order="company_id, id", limit=1)
        self.assertEqual(request.maintenance_team_id, first, "the company's first team")

    def test_technician_from_the_equipment_else_its_category(self):
        _message, from_category = self.apply(self.event(wonum="WO-93001", worktype="CM", assetnum="AST-1007"))
        self.assertEqual(from_category.user_id, self.pump.category_id.technician_user_id)
        self.assertEqual(from_category.user_id, self.technician)
        own = self.env.ref("base.user_admin")
        self.pump.technician_user_id = own
        _message, from_equipment = self.apply(self.event(wonum="WO-93002", worktype="CM", assetnum="AST-1007"))
        self.assertEqual(from_equipment.user_id, own, "the equipment's own technician comes first")
        self.pump.invalidate_recordset()
        # A pull of the equipment master leaves the technician alone.
        self.cmms.state.asset_overrides["AST-1007"] = {"location": "ER-1F"}
        self.pull(self.equipment_flow)
        self.assertEqual((self.pump.technician_user_id, self.pump.hc_location), (own, "ER-1F"))

    def test_breakdown_of_critical_equipment_runs_on_the_urgent_channel(self):
        message, [job] = self.post(self.event())
        self.assertEqual(job.channel, self.backend._channel_name(urgent=True))
        self.assertTrue(job.channel.endswith(".urgent"))
        self.assertEqual(job.priority, 0)
        self.attempt(message)
        request = self.request_of("WO-90001")
        self.assertEqual((request.priority, request.hc_urgent), ("3", True))
        # Breakdown of a pump (not critical), and a corrective order of the ventilator: the normal lane.
        for work_order in (self.event(wonum="WO-94001", assetnum="AST-1007"), self.event(wonum="WO-94002",
                                                                                            worktype="CM")):
            other, [job] = self.post(work_order)
            self.assertEqual(job.channel, self.events.channel)
            self.assertFalse(job.channel.endswith(".urgent"))
            self.attempt(other)
            self.assertFalse(self.request_of(work_order["wonum"]).hc_urgent)

    def test_a_repeated_event_updates_and_never_reroutes(self):
        self.route("Everything to facilities", 10, self.team_facilities)
        _message, request = self.apply(self.event(wonum="WO-95001", worktype="CM", assetnum="AST-1007"))
        request.maintenance_team_id = self.team_critical  # the planner re-assigns it
        again, _jobs = self.post(self.event(wonum="WO-95001", worktype="CM", assetnum="AST-1007"))
        self.attempt(again)
        self.assertEqual(again.state, "done")
        self.assertEqual(len(self.request_of("WO-95001")), 1)
        changed, _jobs = self.post(self.event(wonum="WO-95001", worktype="CM", assetnum="AST-1007",
                                                 wopriority=1, description="Pump alarm, getting worse"))
        self.attempt(changed)
        self.assertEqual((request.name, request.priority), ("Pump alarm, getting worse", "3"))
        self.assertEqual(request.maintenance_team_id, self.team_critical, "the planner's team is kept")

    def test_unknown_equipment_fails_naming_it(self):
        message, _jobs = self.post(self.event(wonum="WO-96001", assetnum="AST-9999"))
        self.attempt(message)
        self.assertEqual((message.state, message.error_category), ("exception", "mapping"))
        self.assertIn("unknown equipment AST-9999", message.error_message)
        self.assertFalse(self.request_of("WO-96001"))


@tagged("post_install", "-at_install")
class TestStatusPushBack(MaintenanceMixin, TransactionCase):
    """Status changes of requests from the CMMS, queued by the flow's sending rule (base_automation)
    on a change of stage and pushed back through its outbound and response mappings, once each."""

    def setUp(self):
        super().setUp()
        self.equipment_flow.page_size = 20
        self.pull(self.equipment_flow)
        message, _jobs = self.post(self.event(wonum="WO-97001", worktype="CM", assetnum="AST-1007"))
        self.attempt(message)
        self.request = self.request_of("WO-97001")

    def test_each_status_is_pushed_once(self):
        self.assertTrue(self.status_push.sudo().push_rule_id.active, "the demo flow's sending rule is active")
        [started], [job] = self.move(self.request, self.stage_progress)
        self.assertEqual(job.channel, self.status_push.channel)
        self.assertEqual(self.request.hc_sync_state, "pending")
        self.assertIsNone(self.attempt(started))
        self.assertEqual(started.state, "done", started.error_message)
        self.assertEqual(self.cmms.changes("WO-97001"), ["INPRG"])
        self.assertTrue(self.request.hc_started_at)
        self.request.schedule_date = "2026-12-02 08:00:00"
        self.request.schedule_end = "2026-12-02 10:30:00"
        [done], _jobs = self.move(self.request, self.stage_done)
        self.attempt(done)
        self.assertEqual(done.state, "done", done.error_message)
        self.assertEqual(self.cmms.changes("WO-97001"), ["INPRG", "COMP"])
        completed = self.cmms.state.status_changes[-1]
        self.assertEqual((completed["actlabhrs"], completed["transid"], completed["memo"]),
                         (2.5, "WO-97001:done", "Repaired"))
        self.assertTrue(completed["statusdate"].endswith("+00:00"))
        self.request.invalidate_recordset()
        self.assertEqual((self.request.hc_remote_state, self.request.hc_sync_state), ("accepted", "in_sync"))

        # Back and forth through the same stages: a status already sent queues nothing, sends nothing again.
        for stage in (self.stage_progress, self.stage_done):
            self.assertEqual(self.move(self.request, stage), (self.env["hc.message"], []))
        self.assertEqual(self.cmms.changes("WO-97001"), ["INPRG", "COMP"])
        self.assertEqual(len(self.cmms.state.status_posts), 2)
        # A stage with nothing to send, a request from no CMMS: nothing queued.
        self.assertEqual(self.move(self.request, self.stage_new)[0], self.env["hc.message"])
        local = self.env["maintenance.request"].create({"name": "Local request",
                                                         "maintenance_team_id": self.team_biomed.id})
        self.assertEqual(self.move(local, self.stage_progress)[0], self.env["hc.message"])

    def test_a_retry_after_a_timeout_never_sends_twice(self):
        self.backend.read_timeout = 1
        self.cmms.set_faults(timeout_after_store_rate=1.0, hang_seconds=2)
        [done], _jobs = self.move(self.request, self.stage_done)
        raised = self.attempt(done)
        self.assertIsNotNone(raised, "a timeout is transient: the job is retried")
        done.invalidate_recordset()
        self.assertEqual(done.state, "failed_retrying")
        self.assertEqual(self.cmms.changes("WO-97001"), ["COMP"], "the CMMS recorded it before the answer got lost")
        self.cmms.set_faults(timeout_after_store_rate=0.0)
        self.assertIsNone(self.attempt(done))
        self.assertEqual(done.state, "done", done.error_message)
        self.assertEqual(len(self.cmms.state.status_posts), 2, "sent twice...")
        self.assertEqual(self.cmms.changes("WO-97001"), ["COMP"], "...recorded once")
        self.assertEqual(self.request.hc_remote_state, "accepted")

    def test_a_refusal_lands_in_the_exception_queue_and_resync_sends_the_same_change(self):
        self.cmms.state.status["WO-97001"] = "CAN"  # closed in the CMMS meanwhile
        [started], _jobs = self.move(self.request, self.stage_progress)
        self.attempt(started)
        self.assertEqual((started.state, started.error_category), ("exception", "remote"))
        self.assertIn("WO-97001 is CAN", started.error_message)
        self.request.invalidate_recordset()
        self.assertEqual(self.request.hc_remote_state, "rejected")
        self.assertEqual(self.request.hc_sync_state, "failed")
        # Reopened in the CMMS; Resync on the request sends the status again under the same wire key.
        self.cmms.state.status["WO-97001"] = "WAPPR"
        with trap_jobs():
            self.request.action_hc_resync()
        resent = self.env["hc.message"].search([("flow_id", "=", self.status_push.id), ("id", "!=", started.id)])
        self.assertEqual(len(resent), 1)
        self.attempt(resent)
        self.assertEqual(resent.state, "done", resent.error_message)
        self.assertEqual(self.cmms.changes("WO-97001"), ["INPRG"])
        self.assertEqual(self.cmms.state.status_changes[-1]["transid"], "WO-97001:in_progress")
        self.assertEqual(started.state, "ignored", "the failed message is superseded")


@tagged("post_install", "-at_install")
class TestRoutingRights(HcIntegrationCase):
    """Routing rules are configuration: consultants and maintenance managers keep them; operators,
    viewers and other users read them; each company sees its own."""

    def test_who_edits_routing_rules(self):
        team = self.env.ref("hc_maintenance_sync.demo_team_biomed")
        users = {
            role: new_test_user(self.env, login=f"hc_route_{role}", groups=f"base.group_user,{group}")
            for role, group in (("consultant", "hc_integration_base.group_hc_consultant"),
                                ("admin", "hc_integration_base.group_hc_admin"),
                                ("manager", "maintenance.group_equipment_manager"),
                                ("operator", "hc_integration_base.group_hc_operator"),
                                ("viewer", "hc_integration_base.group_hc_viewer"))
        }
        Route = self.env["hc.maintenance.route"]
        for role in ("consultant", "admin", "manager"):
            route = Route.with_user(users[role]).create({"name": f"Rule of {role}", "team_id": team.id})
            route.write({"sequence": 5})
        for role in ("operator", "viewer"):
            self.assertTrue(Route.with_user(users[role]).search([("name", "=", "Rule of consultant")]))
            with self.assertRaises(AccessError):
                Route.with_user(users[role]).create({"name": "Not allowed", "team_id": team.id})
        other = self.env["res.company"].create({"name": "Other hospital"})
        foreign = Route.create({"name": "Other hospital's rule", "company_id": other.id,
                                "team_id": self.env["maintenance.team"].create(
                                    {"name": "Other team", "company_id": other.id}).id})
        self.assertFalse(Route.with_user(users["consultant"]).search([("id", "=", foreign.id)]),
                         "a rule of another company is not seen")
        self.assertFalse(Route._route({"event_type": "breakdown"}, self.env.company) == foreign)

    def test_jobs_get_the_maintenance_rights_they_need(self):
        job_user = self.env["res.users"].browse(self.env.ref("hc_maintenance_sync.demo_backend_cmms")._job_user())
        for model in ("maintenance.equipment", "maintenance.equipment.category", "maintenance.request"):
            self.assertTrue(self.env[model].with_user(job_user).has_access("create"), model)
        followed_by_nobody = self.env["maintenance.request"].create(
            {"name": "Not followed", "maintenance_team_id": self.env.ref("hc_maintenance_sync.demo_team_biomed").id})
        followed_by_nobody.message_unsubscribe(partner_ids=followed_by_nobody.message_partner_ids.ids)
        self.assertTrue(self.env["maintenance.request"].with_user(job_user).search(
            [("id", "=", followed_by_nobody.id)]), "the jobs see every request of their company")


@tagged("post_install", "-at_install")
class TestEquipmentOwnership(MaintenanceMixin, TransactionCase):
    """The CMMS owns the equipment master: a planner editing a field its pull fills is warned (or
    refused when the flow says read-only); the fields it does not fill stay Odoo's."""

    def test_fields_the_cmms_fills_are_its_own(self):
        self.pull(self.equipment_flow)
        ventilator = self.equipment("AST-1002")
        planner = new_test_user(self.env, login="hc_planner",
                                groups="base.group_user,maintenance.group_equipment_manager")
        result = ventilator.with_user(planner).onchange({"serial_no": "SN-EDITED"}, ["serial_no"], {"serial_no": {}})
        self.assertIn(self.backend.name, result["warning"]["message"])
        self.assertIn("Serial Number", result["warning"]["message"])
        free = ventilator.with_user(planner).onchange({"note": "<p>seen</p>"}, ["note"], {"note": {}})
        self.assertNotIn("warning", free, "the CMMS does not fill the note")
        self.equipment_flow.ownership_policy = "block"
        with self.assertRaisesRegex(UserError, re.escape(self.backend.name)):
            ventilator.with_user(planner).write({"serial_no": "SN-EDITED"})
        ventilator.with_user(planner).write({"note": "<p>seen</p>"})
        # The pull itself still writes what the CMMS changes.
        self.cmms.state.asset_overrides["AST-1002"] = {"serialnum": "SN-NEW-0001"}
        self.pull(self.equipment_flow)
        self.assertEqual(ventilator.serial_no, "SN-NEW-0001")


@tagged("post_install", "-at_install")
class TestMaintenanceConfigExport(MaintenanceMixin, TransactionCase):
    """A configuration file carries the settings this addon adds to flows (the default team) by XML id
    and name, as code tables carry their records: promoted to another database, the flows keep them."""

    def test_default_team_travels_with_the_flows(self):
        data = self.backend._export_config()
        [events] = [flow for flow in data["flows"] if flow["code"] == "work_orders"]
        self.assertEqual(events["hc_maintenance_team_id"],
                         {"xmlid": "hc_maintenance_sync.demo_team_biomed", "name": "Biomedical engineering"})
        data["backend"]["code"] = "cmms_copy"
        handmade = self.env["maintenance.team"].create({"name": "Night shift engineers"})
        events["hc_maintenance_team_id"] = {"xmlid": None, "name": "Night shift engineers"}
        copy = self.env["hc.backend"]._import_config(data)
        imported = copy.flow_ids.filtered(lambda flow: flow.code == "work_orders")
        self.assertEqual(imported.hc_maintenance_team_id, handmade, "found by name where it was made by hand")
        pulled = copy.flow_ids.filtered(lambda flow: flow.code == "work_orders_pull")
        self.assertEqual(pulled.hc_maintenance_team_id, self.team_biomed, "found by XML id")
        events["hc_maintenance_team_id"] = {"xmlid": None, "name": "No such team"}
        data["backend"]["code"] = "cmms_third"
        with self.assertRaisesRegex(UserError, "Flow Work orders .*: no record of Maintenance Teams named No such"):
            self.env["hc.backend"]._import_config(data)
