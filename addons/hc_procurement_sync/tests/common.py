"""Procurement's test helpers on top of the base's fixture layer: purchase orders confirmed and
vendor bills posted as the buyers do, with the push each one queues."""

from odoo.addons.hc_integration_base.payload import hl7v2
from odoo.addons.hc_integration_base.tests.common import HcIntegrationCase, HcIntegrationHttpCase
from odoo.addons.queue_job.tests.common import trap_jobs


class ProcurementMixin:
    @classmethod
    def start_acme_gateway(cls, code, name, **values):
        """A SOAP gateway nothing in the addons knows (legacy_sim/supply_gateway.py: PlaceOrder,
        ACCEPTED|NACK, GatewayOrderNo), stopped with the class, and its backend: ``(gateway, backend)``."""
        from legacy_sim.supply_gateway import GATEWAY_PASSWORD, GATEWAY_USER, start_supply_gateway  # noqa: PLC0415

        gateway = start_supply_gateway()
        cls.addClassCleanup(gateway.stop)
        backend = cls.create_backend(
            name=name, code=code, protocol="soap", wsdl_url=gateway.wsdl_url, auth_type="basic",
            auth_username=GATEWAY_USER, auth_password=GATEWAY_PASSWORD, read_timeout=10, **values)
        return gateway, backend

    @classmethod
    def order_push_flow(cls, backend, code, name, env=None, **values):
        """Orders go to ``backend`` (its PlaceOrder operation) instead of the demo gateway."""
        env = env or cls.env
        env["hc.flow"].search([("object_type", "=", "purchase_order"), ("direction", "=", "push")]).active = False
        return cls.create_flow(code, backend, model=None, env=env, name=name, object_type="purchase_order",
                               direction="push", system_of_record="odoo", mode="event", remote_resource="PlaceOrder",
                               **values)

    def create_order(self, vendor, lines, env=None, **values):
        """A draft purchase order of ``vendor``; ``lines`` are ``(product, quantity, unit price)``,
        optionally followed by more values of the line."""
        return (env or self.env)["purchase.order"].create({
            "partner_id": vendor.id, **values,
            "order_line": [(0, 0, {"product_id": product.id, "product_qty": qty, "price_unit": price, **extra})
                           for product, qty, price, *more in lines for extra in [more[0] if more else {}]],
        })

    def confirm(self, order, jobs=None):
        """Confirm ``order`` (its push trapped, not run); with ``jobs``, assert how many it queued."""
        with trap_jobs() as trap:
            order.button_confirm()
            if jobs is not None:
                trap.assert_jobs_count(jobs)
        return order

    def post_bill(self, order, price=None):
        """Bill the confirmed ``order`` (at ``price`` a unit if given) and post it: ``(bill, the
        outcome message it queued)``, the message's job not run."""
        order.action_create_invoice()
        bill = order.invoice_ids
        bill.invoice_date = bill.invoice_date or "2026-11-24"
        if price is not None:
            bill.invoice_line_ids.price_unit = price
        with trap_jobs() as trap:
            bill.action_post()
            trap.assert_jobs_count(1)
        return bill, self.messages_of(bill)


class ProcurementCase(ProcurementMixin, HcIntegrationCase):
    pass


class ProcurementHttpCase(ProcurementMixin, HcIntegrationHttpCase):
    pass


class MmisHl7Case(HcIntegrationCase):
    """The demo MLLP backend of the materials-management system (``cls.backend``), whose HL7 flows
    the procurement and inventory tests drive, and its messages received as the listener does."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls.env.ref("hc_procurement_sync.demo_backend_mmis_hl7")

    def hl7(self, text):
        """``text`` stored as the MLLP listener stores it, then its jobs run as the job runner runs
        them (``self.jobs``: the jobs it queued). Returns what the listener answers."""
        with trap_jobs() as trap:
            result = self.backend._hl7_receive(hl7v2.parse(text))
            self.jobs = list(trap.enqueued_jobs)
            self.run_jobs(trap)
        return result
