import functools
import json

from odoo import api, models
from odoo.tools.misc import file_open

from ..exceptions import PermanentError

ACKNOWLEDGEMENT_SCHEMA = "hc_integration_base/schemas/acknowledgement.v1.json"


@functools.cache
def load_schema(path):
    """A canonical document's JSON Schema, kept in an addon (``<addon>/schemas/<type>.v<n>.json``)."""
    with file_open(path) as handle:
        return json.load(handle)


@functools.cache
def _validator(path):
    import jsonschema  # noqa: PLC0415 - a runtime dependency, loaded where schemas are checked

    return jsonschema.Draft202012Validator(load_schema(path))


def schema_errors(path, document):
    """Every place where ``document`` breaks the schema at ``path``, as "path: message" texts."""
    errors = sorted(_validator(path).iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path])
    return [f"/{'/'.join(str(p) for p in e.absolute_path)}: {e.message}" for e in errors]


class HcHandlerPush(models.AbstractModel):
    """The shared path of a push: canonical document -> wire request -> answer -> acknowledgement.

    A push handler builds its object type's canonical document (``_prepare_payload``, stored as
    the message's payload) and reads the canonical acknowledgement; everything about the wire
    is the flow's configuration, applied here:

    - the flow's active *outbound* mapping turns the document into the request (without one the
      document is sent as it is — the demo simulators speak the canonical dialect);
    - the backend sends it (``hc.backend._send``): the flow describes the request — REST method,
      path template and query with placeholders from the document, JSON or XML; the SOAP
      operation of the document's action (create / update / cancel) — and the backend's
      transport carries it;
    - the flow's active *response* mapping turns the answer into the acknowledgement (a code
      table in it translates the status vocabulary); without one the answer is read as it is.
    """

    _name = "hc.handler.push"
    _inherit = "hc.handler.generic"
    _description = "Integration Handler: push template"

    # The canonical document's schema ("<addon>/schemas/<type>.v<n>.json"); set by each handler.
    _document_schema = None

    @api.model
    def _canonical_schema(self):
        """The JSON Schema of the documents this handler builds (None: the generic record)."""
        return load_schema(self._document_schema) if self._document_schema else None

    @api.model
    def _acknowledgement_schema(self):
        return load_schema(ACKNOWLEDGEMENT_SCHEMA)

    @api.model
    def _acknowledgement_fields(self):
        return set(self._acknowledgement_schema()["properties"])

    @api.model
    def _check_document(self, document):
        if not self._document_schema:
            return
        errors = schema_errors(self._document_schema, document)
        if errors:
            raise PermanentError(
                self.env._("The %(type)s document does not match its schema: %(errors)s",
                           type=self._canonical_schema().get("title", self._document_schema),
                           errors="; ".join(errors[:10])),
                category="validation",
            )

    @api.model
    def _wire_request(self, message, document):
        """The request for ``document``: the flow's active outbound mapping applied to it."""
        return self._through_mapping(message, document, "outbound", lambda mapping, errors: self.env._(
            "The outbound mapping %(name)s cannot build the request: %(errors)s", name=mapping.name, errors=errors))

    @api.model
    def _acknowledgement(self, message, body, raw=None):
        """The canonical acknowledgement of an answer ``body``: through the flow's active response
        mapping when it has one (one in XML format reads the answer's text ``raw`` by XPath), else
        the answer's own keys."""
        mapping = message.flow_id.response_mapping_id
        if mapping:
            answer = raw if mapping.payload_format == "xml" and raw else body
            result = mapping._compiled()(answer if answer is not None else {})
            if result.errors:
                raise PermanentError(
                    self.env._("The answer could not be read by the response mapping %(name)s: %(errors)s",
                               name=mapping.name,
                               errors=result.error_text()),
                    category="mapping",
                )
            ack = dict(result.values)
        else:
            ack = dict(body) if isinstance(body, dict) else {}
        if ack.get("status") in (None, ""):
            ack["status"] = "accepted"  # the call succeeded and the answer says nothing else
        errors = schema_errors(ACKNOWLEDGEMENT_SCHEMA, ack)
        if errors:
            raise PermanentError(
                self.env._("The answer is not an acknowledgement (%(errors)s); a response mapping with a code "
                           "table for the status translates the system's vocabulary.", errors="; ".join(errors[:5])),
                category="mapping",
            )
        return ack

    @api.model
    def _push_document(self, message, document):
        """Send one canonical document; return ``(acknowledgement, send result)``."""
        self._check_document(document)
        request = self._wire_request(message, document)
        result = message.backend_id._send(message, request, document)
        return self._acknowledgement(message, result["body"], result.get("raw")), result

    # --- the push of one record (the message names it) ------------------------------------------------
    @api.model
    def _export_message(self, message):
        """Send the canonical document of the record the message names. The acknowledgement is
        written on the record (``_record_answer``) whether the system accepted or rejected it; a
        rejection stops the message in the exception queue with the system's reason
        (``_rejection_text``), its answer kept on the record all the same."""
        record = message.record_ref
        if not record:
            raise PermanentError(self.env._("The record to send no longer exists."))
        ack, result = self._push_document(message, self._payload(message))

        def record_answer():
            self._record_answer(message, record, ack)

        if ack["status"] == "rejected":
            raise PermanentError(self._rejection_text(message, record, ack), category="remote", keep=record_answer)
        record_answer()
        return result

    @api.model
    def _record_answer(self, message, record, ack):
        """Write the acknowledgement ``ack`` on the pushed ``record`` (nothing by default)."""

    @api.model
    def _rejection_text(self, message, record, ack):
        return self.env._("%(backend)s rejected %(record)s: %(reason)s", backend=message.backend_id.name,
                          record=record.display_name, reason=ack.get("reason") or "-")
