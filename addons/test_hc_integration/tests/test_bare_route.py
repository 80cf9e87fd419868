from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install")
class TestBareRoute(HttpCase):
    """The benchmark's bare route answers a post as the inbound API is called (JSON body, no
    session) with 204 and an empty body, and stores nothing."""

    def test_post_answers_204(self):
        partners = self.env["res.partner"].search_count([])
        response = self.url_open("/test_hc/bare", data=b'{"id": "B-1", "name": "Bare"}',
                                 headers={"Content-Type": "application/json"})
        self.assertEqual(response.status_code, 204)
        self.assertEqual(response.content, b"")
        self.assertNotIn("session_id", response.cookies)
        self.assertEqual(self.env["res.partner"].search_count([]), partners)
