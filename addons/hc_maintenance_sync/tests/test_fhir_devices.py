"""The equipment master read from a FHIR R4 server's Device resources, configured only with records
(the demo's Devices flow): Bundle pages followed by their next links, the asset tag, name and type
picked from coded lists by system, the category by code, inactive devices archived, a second pull
changing nothing; the pages of one pull, run side by side, never writing the same category row."""

from odoo import SUPERUSER_ID, api, sql_db
from odoo.tests import tagged

from odoo.addons.hc_integration_base.exceptions import ReferenceWait
from odoo.addons.hc_integration_base.lifecycle.locks import lock_key
from odoo.addons.hc_integration_base.tests.common import HcIntegrationCase

from legacy_sim.fhir import start_fhir_server


@tagged("post_install", "-at_install")
class TestFhirDevices(HcIntegrationCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fhir = start_fhir_server(devices=9, max_count=4)
        cls.addClassCleanup(cls.fhir.stop)
        cls.backend = cls.env.ref("hc_integration_base.demo_backend_fhir")
        cls.backend.base_url = cls.fhir.url
        cls.flow = cls.env.ref("hc_maintenance_sync.demo_flow_fhir_devices")

    def test_devices_become_equipment_once(self):
        run = self.pull(self.flow)
        self.assertEqual((run.state, run.count_created, run.count_failed), ("done", 9, 0), run.error_message)
        self.assertEqual(len(run.page_message_ids), 3, "4 + 4 + 1 devices: the server caps _count at 4")
        Equipment = self.env["maintenance.equipment"].with_context(active_test=False)
        equipment = Equipment.search([("hc_code", "=like", "AST-F%")], order="hc_code")
        self.assertEqual(equipment.mapped("hc_code"), [f"AST-F{n:04d}" for n in range(1, 10)])
        ventilator = equipment[0]
        self.assertEqual((ventilator.name, ventilator.category_id, ventilator.hc_critical, ventilator.hc_location),
                         ("Ventilator 1", self.env.ref("hc_maintenance_sync.demo_category_ventilators"), True, "LAB"))
        self.assertTrue(ventilator.serial_no.startswith("SN"))
        self.assertEqual(equipment[1].category_id, self.env.ref("hc_maintenance_sync.demo_category_infusion"))
        self.assertFalse(equipment[1].hc_critical)
        self.assertEqual(equipment.filtered(lambda e: not e.active).mapped("hc_code"), ["AST-F0007"],
                         "an inactive device is archived")
        binding = self.env["hc.binding"]._remote_of(self.backend, ventilator)
        self.assertEqual((binding.external_id, binding.external_version), ("dev-1", "1"))

        self.flow.changed_since_watermark = False
        again = self.pull(self.flow)
        self.assertEqual((again.count_created, again.count_updated, again.count_unchanged), (0, 0, 9))
        self.assertEqual(Equipment.search_count([("hc_code", "=like", "AST-F%")]), 9)

    def test_pages_side_by_side_never_write_one_category_row(self):
        """Two pages of one pull, each in its own transaction, add the first equipment of a category.
        Odoo stores the category's fold (folded: no equipment) and unfolds it then: written by both
        pages, the row makes PostgreSQL refuse one (could not serialize access). The page holding the
        category's lock unfolds it; the other waits (no attempt spent) instead of writing the row, and
        on its next run adds its equipment without writing the category at all."""
        database = sql_db.db_connect(self.env.cr.dbname)
        setup = database.cursor()  # committed, as the demo's categories are before their first pull
        category = api.Environment(setup, SUPERUSER_ID, {})["maintenance.equipment.category"].create(
            {"name": "Side-by-side pumps", "hc_code": "HC-SIDE", "technician_user_id": False})
        setup.commit()
        self.assertTrue(category.fold, "no equipment yet: folded")

        def remove():
            setup.rollback()  # a snapshot after the pages' commits
            setup.execute("DELETE FROM maintenance_equipment WHERE category_id = %s", [category.id])
            setup.execute("DELETE FROM maintenance_equipment_category WHERE id = %s", [category.id])
            setup.commit()
            setup.close()

        self.addCleanup(remove)
        first, second = database.cursor(), database.cursor()  # the two pages' transactions
        self.addCleanup(first.close)
        self.addCleanup(second.close)
        first_env, second_env = api.Environment(first, SUPERUSER_ID, {}), api.Environment(second, SUPERUSER_ID, {})
        for cr in (first, second):
            cr.execute("SET lock_timeout = '2s'")  # a wait for the other's row would fail here
        document = {"category_code": "HC-SIDE"}
        found = first_env["hc.handler.equipment"]._category(document)
        first_env["maintenance.equipment"].create({"name": "Pump 1", "category_id": found.id})
        first_env.flush_all()  # the first page unfolds the category: its row is written, not committed yet
        with self.assertRaisesRegex(ReferenceWait, "category HC-SIDE is being created or updated by another page"):
            second_env["hc.handler.equipment"]._category(document)
        second.rollback()
        first.commit()

        first.execute("SELECT id FROM maintenance_equipment_category WHERE id = %s FOR NO KEY UPDATE", [category.id])
        again = second_env["hc.handler.equipment"]._category(document)  # its next run, a fresh snapshot
        self.assertEqual(again.id, category.id)
        second_env["maintenance.equipment"].create({"name": "Pump 2", "category_id": again.id})
        second_env.flush_all()  # unfolded already: the row is left alone (else: the lock timeout)
        second.rollback()
        first.rollback()

    def _committed_category(self, code, **values):
        """A category of ``code`` committed as the demo's are (``values`` given), removed at the end
        with what the pages made of it; none made when ``values`` is empty."""
        database = sql_db.db_connect(self.env.cr.dbname)
        setup = database.cursor()
        if values:
            api.Environment(setup, SUPERUSER_ID, {})["maintenance.equipment.category"].create(
                {"hc_code": code, "technician_user_id": False, **values})
            setup.commit()

        def remove():
            setup.rollback()  # a snapshot after the pages' commits
            setup.execute("DELETE FROM maintenance_equipment WHERE category_id IN "
                          "(SELECT id FROM maintenance_equipment_category WHERE hc_code = %s)", [code])
            setup.execute("DELETE FROM maintenance_equipment_category WHERE hc_code = %s", [code])
            setup.commit()
            setup.close()

        self.addCleanup(remove)
        return database

    def _pages(self, database):
        """Two pages' transactions, each an environment on a cursor of its own."""
        first, second = database.cursor(), database.cursor()
        for cr in (first, second):
            self.addCleanup(cr.close)
            cr.execute("SET lock_timeout = '2s'")  # a wait for the other's row would fail here
        return api.Environment(first, SUPERUSER_ID, {}), api.Environment(second, SUPERUSER_ID, {})

    def test_a_page_begun_before_another_made_the_category_waits(self):
        """Pages run side by side: the second page began (its snapshot taken) before the first made
        the category and committed. The category's lock is free by then, but the second page cannot
        see the category: it waits (no attempt spent) rather than make a second one of the same code,
        and on its next run finds the first's."""
        database = self._committed_category("HC-LATE")
        first_env, second_env = self._pages(database)
        second_env.cr.execute("SELECT count(*) FROM maintenance_equipment_category")  # its snapshot
        document = {"category_code": "HC-LATE", "category_name": "Late pumps"}
        made = first_env["hc.handler.equipment"]._category(document)
        first_env.cr.commit()
        with self.assertRaisesRegex(ReferenceWait, "category HC-LATE was changed by another page"):
            second_env["hc.handler.equipment"]._category(document)
        second_env.cr.rollback()
        self.assertEqual(second_env["hc.handler.equipment"]._category(document).id, made.id)
        second_env.cr.execute("SELECT count(*) FROM maintenance_equipment_category WHERE hc_code = 'HC-LATE'")
        self.assertEqual(second_env.cr.fetchone()[0], 1, "one category of the code")

    def test_a_page_begun_before_another_unfolded_the_category_waits(self):
        """As above, for a category that exists, folded: the first page unfolds it (its first
        equipment) and commits; the second, begun before, still reads it folded. Writing the row would
        make PostgreSQL refuse the second page (could not serialize access: an error in the server log
        and an attempt spent); it waits instead and then adds its equipment leaving the row alone."""
        database = self._committed_category("HC-UNFOLD", name="Unfolding pumps")
        first_env, second_env = self._pages(database)
        second_env.cr.execute("SELECT count(*) FROM maintenance_equipment_category")  # its snapshot
        document = {"category_code": "HC-UNFOLD"}
        found = first_env["hc.handler.equipment"]._category(document)
        first_env["maintenance.equipment"].create({"name": "Pump 1", "category_id": found.id})
        first_env.flush_all()
        first_env.cr.commit()
        with self.assertRaisesRegex(ReferenceWait, "category HC-UNFOLD was changed by another page"):
            second_env["hc.handler.equipment"]._category(document)
        second_env.cr.rollback()
        again = second_env["hc.handler.equipment"]._category(document)
        self.assertFalse(again.fold)
        second_env["maintenance.equipment"].create({"name": "Pump 2", "category_id": again.id})
        second_env.flush_all()
        second_env.cr.commit()
        self.assertEqual(again.equipment_count, 2)

    def test_a_category_another_page_is_creating_waits_for_it(self):
        """The page that takes the category's named lock creates it; another waits (no attempt spent)
        and finds it on its next run, rather than making a second category of the same code."""
        other = sql_db.db_connect(self.env.cr.dbname).cursor()
        self.addCleanup(other.close)
        other.execute("SELECT pg_advisory_xact_lock(%s)",
                      (lock_key(f"maintenance.equipment.category:{self.env.company.id}:MRI"),))
        handler = self.env["hc.handler.equipment"]
        document = {"category_code": "MRI", "category_name": "MRI scanners"}
        with self.assertRaisesRegex(ReferenceWait, "category MRI is being created or updated by another page"):
            handler._category(document)
        other.rollback()
        made = handler._category(document)
        self.assertEqual((made.name, made.hc_code), ("MRI scanners", "MRI"))
        self.assertEqual(handler._category(document), made, "found, not made again")
