from odoo import api, fields, models

from odoo.addons.hc_integration_base.exceptions import PermanentError

# What belongs to the employee's dated version (hr.version) rather than to the employee.
VERSION_FIELDS = ("department_id", "job_id", "hc_cost_center_id")
# Payroll keys of the document and the admin-only version fields they go to, when a mapping names them.
PAYROLL_FIELDS = {"payroll_wage": "wage", "payroll_national_id": "hc_national_id",
                  "payroll_bank_account": "hc_bank_account"}


class HcHandlerEmployee(models.AbstractModel):
    """Employees of the legacy HR and payroll system (schemas/employee.v1.json), pulled nightly or
    sent as joiner, mover and leaver events.

    Odoo 19 keeps an employee's department, job and contract terms on dated versions (hr.version,
    which hr.employee inherits): a document with an effective date puts its department, job and
    cost centre on the version starting that day (``create_version`` copies the version in force
    then, or the version of that day is corrected); without one, on the current version. A leaver
    is archived (Odoo's own archiving: the links to it emptied) with its departure date, never
    deleted; a joiner who had left is re-activated. Keys the document leaves out stay as they are.
    Payroll data is never read, but for the ``payroll_*`` keys the flow's active mapping names
    (a consultant's explicit choice): those go to the version's HR-administrator-only fields.
    """

    _name = "hc.handler.employee"
    _inherit = "hc.handler.master"
    _description = "Integration Handler: employee"
    _document_schema = "hc_workforce_sync/schemas/employee.v1.json"
    _document_key = "identifier"
    _record_model = "hr.employee"
    _code_field = "hc_employee_code"

    @api.model
    def _job(self, title):
        if not title:
            return self.env["hr.job"]
        Job = self.env["hr.job"].with_context(active_test=False)
        company = self.env.company
        job = Job.search([("name", "=", title), ("company_id", "in", [company.id, False])], limit=1)
        return job or Job.create({"name": title, "company_id": company.id})

    @api.model
    def _version_values(self, message, document):
        values = {}
        if "department_code" in document:
            values["department_id"] = self._required_reference(
                message, "department", "hr.department", "hc_code", self._code(document["department_code"]),
                self.env._("department")).id or False
        if "cost_centre_code" in document:
            values["hc_cost_center_id"] = self._required_reference(
                message, "cost_centre", "account.analytic.account", "code", self._code(document["cost_centre_code"]),
                self.env._("cost centre")).id or False
        if "job_title" in document:
            values["job_id"] = self._job((document["job_title"] or "").strip()).id or False
        return values

    @api.model
    def _employee_values(self, message, record, code, document):
        values = {"hc_employee_code": code}
        if document.get("name"):
            values["name"] = document["name"].strip()
        if "work_email" in document:
            values["work_email"] = (document["work_email"] or "").strip().lower() or False
        if "manager_identifier" in document:
            manager_code = self._code(document["manager_identifier"])
            manager = self._by_code(message, "hr.employee", "hc_employee_code", manager_code)
            values["hc_manager_code"] = manager_code or False
            values["parent_id"] = manager.id if manager.active and manager != record else False
        return values

    @api.model
    def _is_leaver(self, document):
        return document.get("active") is False or (document.get("event") == "leaver" and "active" not in document)

    @api.model
    def _create_values(self, message, code, document):
        """A new employee: its own values, its first version's (department, job, cost centre)
        from the effective date, and its departure date."""
        leaving = self._date(document, "leaving_date")
        effective = self._date(document, "effective_date")
        values = self._employee_values(message, self.env["hr.employee"], code, document)
        if not values.get("name"):
            raise PermanentError(self.env._("Employee %s is unknown here: creating it needs a name.", code),
                                 category="mapping")
        return {**values, **self._version_values(message, document),
                **({"date_version": effective} if effective else {}),
                **({"departure_date": leaving} if leaving else {})}

    @api.model
    def _after_create(self, message, record, code, document):
        self._store_payroll(message, record, document, self._date(document, "effective_date"))
        self._archive_leaver(record, document)

    @api.model
    def _payroll_keys(self, message):
        """The payroll keys the flow's active inbound mapping fills: none without a mapping, so a
        payload that merely carries such keys stores nothing."""
        mapping = message.flow_id.active_mapping_id
        if not mapping or mapping.direction != "inbound":
            return set()
        return set(mapping.line_ids.mapped("target")) & set(PAYROLL_FIELDS)

    @api.model
    def _store_payroll(self, message, record, document, effective):
        """Payroll data a mapping names, on the version in force from the effective date. Written as
        the superuser for these fields only: the jobs' user is an HR officer, not an HR administrator."""
        keys = self._payroll_keys(message) & set(document)
        if not keys:
            return
        values = {PAYROLL_FIELDS[key]: document[key] if document[key] not in ("", None) else False for key in keys}
        employee = record.sudo()
        version = employee._get_version(effective) if effective else employee.version_id
        changed = self._changed_values(version, values)
        if changed:
            version.write(changed)

    @api.model
    def _archive_leaver(self, record, document):
        """A leaver is archived, never deleted; its departure date is the leaving or effective date."""
        if self._is_leaver(document) and record.active:
            if not record.departure_date:
                record.departure_date = (self._date(document, "leaving_date") or self._date(document, "effective_date")
                                         or fields.Date.context_today(record))
            record.with_context(no_wizard=True).action_archive()

    @api.model
    def _upsert(self, message, record, code, document):
        leaving = self._date(document, "leaving_date")
        effective = self._date(document, "effective_date")
        leaver = self._is_leaver(document)
        if not record:
            record = record.with_context(mail_create_nolog=True, mail_create_nosubscribe=True).create(
                self._create_values(message, code, document))
            effect = "created"
        else:
            version_values = self._version_values(message, document)
            values = self._employee_values(message, record, code, document)
            if not record.active and not leaver:
                record.action_unarchive()  # a joiner who had left (clears the departure)
            record.write(self._changed_values(record, values))
            self._apply_version(record, version_values, effective)
            self._store_payroll(message, record, document, effective)
            if "leaving_date" in document:
                record.write(self._changed_values(record, {"departure_date": leaving}))
            effect = "updated"
        self._archive_leaver(record, document)
        return record, effect

    @api.model
    def _apply_version(self, employee, values, effective):
        """Department, job and cost centre on the version they apply from."""
        if not values:
            return
        version = employee._get_version(effective) if effective else employee.version_id
        changed = self._changed_values(version, values)
        if not changed:
            return
        if effective and version.date_version != effective:
            employee.create_version({"date_version": effective, **values})
        else:
            version.write(changed)

    @api.model
    def _link_waiting(self, record, code):
        if not record.active:
            return
        Department = self.env["hr.department"].with_context(active_test=False, hc_sync_apply=True)
        departments = Department.search([("hc_manager_code", "=", code), ("manager_id", "!=", record.id)])
        if departments:
            departments.write({"manager_id": record.id})
        reports = record.search([("hc_manager_code", "=", code), ("parent_id", "!=", record.id),
                                 ("id", "!=", record.id)])
        if reports:
            reports.with_context(hc_sync_apply=True).write({"parent_id": record.id})
