from odoo import http


class BareController(http.Controller):
    """The inbound benchmark's ceiling: a route declared like the inbound API's (POST, no auth, no
    session, a read-write cursor on the database) that does nothing but answer 204. What it
    costs is Odoo's HTTP stack alone, so accepted events/s against it is a machine-independent
    ratio. Lives in the test addon: the run command never installs it."""

    @http.route("/test_hc/bare", type="http", auth="none", methods=["POST"], csrf=False, save_session=False,
                readonly=False)
    def bare(self, **_params):
        return http.Response(status=204)
