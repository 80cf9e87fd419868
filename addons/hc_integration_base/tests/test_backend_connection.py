import socket
import time
from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from ..transports.errors import TransportError
from .common import HcIntegrationCase


def _closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@tagged("post_install", "-at_install")
class TestBackendConnection(HcIntegrationCase):
    """Test connection against the real simulators, for every protocol and auth type."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.start_simulators()

    def rest_backend(self, **values):
        vals = {"base_url": self.sims.rest_url, "health_path": "/api/v1/health"}
        vals.update(values)
        vals.setdefault("code", f"rest_{vals.get('auth_type', 'none')}")
        return self.create_backend(**vals)

    def keyed_backend(self, code, **values):
        """A REST backend of the simulator with its API key."""
        return self.rest_backend(code=code, auth_type="api_key", api_key="sim-api-key", **values)

    def soap_backend(self, **values):
        vals = {
            "protocol": "soap",
            "wsdl_url": f"{self.sims.soap_url}/procurement?wsdl",
        }
        vals.update(values)
        vals.setdefault("code", f"soap_{vals.get('auth_type', 'none')}")
        return self.create_backend(**vals)

    def assertConnection(self, backend, ok, message_part):
        action = backend.action_test_connection()
        self.assertEqual(backend.last_test_ok, ok, backend.last_test_message)
        self.assertIn(message_part, backend.last_test_message)
        self.assertEqual(action["params"]["type"], "success" if ok else "danger")
        self.assertNotIn("Traceback", backend.last_test_message)

    # --- success for each protocol x auth type ---------------------------------------------
    def test_rest_auth_types(self):
        cases = {
            "none": {"health_path": "/health"},
            "basic": {"auth_username": "odoo", "auth_password": "odoo-secret"},
            "api_key": {"api_key": "sim-api-key"},
            "bearer": {"bearer_token": "sim-static-token"},
            "oauth2": {
                "oauth_token_url": f"{self.sims.rest_url}/oauth/token",
                "oauth_client_id": "odoo-client",
                "oauth_client_secret": "oauth-secret",
            },
        }
        for auth_type, values in cases.items():
            with self.subTest(auth_type=auth_type):
                backend = self.rest_backend(auth_type=auth_type, **values)
                self.assertConnection(backend, True, "Connection OK")
        query_key = self.keyed_backend("rest_api_key_query", api_key_name="api_key", api_key_location="query")
        self.assertConnection(query_key, True, "Connection OK")

    def test_rest_wrong_credentials(self):
        backend = self.rest_backend(auth_type="api_key", api_key="wrong-key")
        self.assertConnection(backend, False, "401")
        backend = self.keyed_backend("rest_forbidden", health_path="/api/v1/forbidden")
        self.assertConnection(backend, False, "403")
        oauth = self.rest_backend(
            code="rest_oauth_bad",
            auth_type="oauth2",
            oauth_token_url=f"{self.sims.rest_url}/oauth/token",
            oauth_client_id="odoo-client",
            oauth_client_secret="not-the-secret",
        )
        self.assertConnection(oauth, False, "401")
        self.assertNotIn("not-the-secret", oauth.last_test_message)

    def test_soap_auth_types(self):
        cases = {
            "wsse_plain": {"auth_type": "wsse", "auth_username": "odoo", "auth_password": "odoo-secret"},
            "wsse_digest": {
                "auth_type": "wsse",
                "auth_username": "odoo",
                "auth_password": "odoo-secret",
                "wsse_digest": True,
            },
            "basic": {"auth_type": "basic", "auth_username": "odoo", "auth_password": "odoo-secret"},
        }
        for code, values in cases.items():
            with self.subTest(case=code):
                backend = self.soap_backend(code=f"soap_{code}", **values)
                self.assertConnection(backend, True, "SubmitPurchaseOrder")
                # The WSDL loads without credentials; an operation call proves the auth.
                result = backend._get_client().call("Ping")
                self.assertEqual(result.body, "pong")

    def test_soap_call_without_credentials_is_permanent_auth_fault(self):
        backend = self.soap_backend(code="soap_anonymous")
        self.assertConnection(backend, True, "Connection OK")
        with self.assertRaises(TransportError) as caught:
            backend._get_client().call("Ping")
        self.assertEqual(caught.exception.category, "soap_fault")
        self.assertFalse(caught.exception.transient)
        self.assertIn("Authentication", caught.exception.fault_code)

    # --- each failure class: the sentence the user sees ---------------------------------------------
    def test_dns_failure(self):
        backend = self.rest_backend(code="dns", base_url="http://no-such-host.invalid:8080")
        self.assertConnection(backend, False, "resolve")

    def test_connection_refused(self):
        backend = self.rest_backend(code="refused", base_url=f"http://127.0.0.1:{_closed_port()}")
        self.assertConnection(backend, False, "refused")

    def test_tls_failure(self):
        backend = self.rest_backend(code="tls", base_url=self.sims.rest_url.replace("http:", "https:"))
        self.assertConnection(backend, False, "TLS")

    def test_timeout(self):
        self.sims.set_faults("rest", timeout_rate=1.0, hang_seconds=3)
        backend = self.keyed_backend("slow", read_timeout=0.5)
        started = time.monotonic()
        self.assertConnection(backend, False, "No answer within")
        self.assertLess(time.monotonic() - started, 2.5)

    def test_wsdl_not_parseable(self):
        backend = self.soap_backend(code="not_wsdl", wsdl_url=f"{self.sims.soap_url}/hostile/not-a-wsdl")
        self.assertConnection(backend, False, "WSDL could not be parsed")

    def test_hostile_wsdl_refused(self):
        for name in ("xxe", "billion-laughs"):
            with self.subTest(wsdl=name):
                backend = self.soap_backend(
                    code=f"hostile_{name.replace('-', '_')}",
                    wsdl_url=f"{self.sims.soap_url}/hostile/{name}.wsdl",
                )
                backend.action_test_connection()
                self.assertFalse(backend.last_test_ok)
                self.assertNotIn("root:", backend.last_test_message)
                with self.assertRaises(TransportError) as caught:
                    backend._get_client()
                self.assertEqual(caught.exception.category, "security")

    def test_classification_of_failures(self):
        backend = self.keyed_backend("classify")
        client = backend._get_client()
        expectations = [
            ({"error_rate": 1.0, "status_code": 503}, "http_5xx", True),
            ({"error_rate": 1.0, "status_code": 429, "retry_after": 120}, "rate_limited", True),
            ({"malformed_rate": 1.0}, "invalid_response", False),
        ]
        for faults, category, transient in expectations:
            with self.subTest(category=category):
                self.sims.reset()
                self.sims.set_faults("rest", **faults)
                with self.assertRaises(TransportError) as caught:
                    client.request("GET", "/api/v1/items", params={"page": 1}, expect="json")
                self.assertEqual(caught.exception.category, category)
                self.assertEqual(caught.exception.transient, transient)
        self.sims.reset()
        with self.assertRaises(TransportError) as caught:
            client.request("GET", "/api/v1/no-such-resource", expect="json")
        self.assertFalse(caught.exception.transient)

    # --- circuit breaker ------------------------------------------------------------------------------
    def test_breaker_opens_fails_fast_and_recovers(self):
        backend = self.keyed_backend("breaker", breaker_threshold=2, breaker_cooldown=1)
        self.sims.take_down("rest")
        try:
            backend.action_test_connection()
            backend.action_test_connection()
            self.assertEqual(backend.breaker_state, "open")
            self.assertTrue(backend.breaker_last_error)
            started = time.monotonic()
            backend.action_test_connection()
            self.assertLess(time.monotonic() - started, 0.5)
            self.assertIn("Circuit open", backend.last_test_message)
        finally:
            self.sims.bring_up("rest")
        time.sleep(1.1)
        self.assertConnection(backend, True, "Connection OK")
        self.assertEqual(backend.breaker_state, "closed")

    def test_a_circuit_opened_by_another_worker_stops_this_one(self):
        backend = self.keyed_backend("shared_breaker", breaker_threshold=5, breaker_cooldown=60)
        # Another worker process saw five failures and wrote it on the record a moment ago.
        backend.write({"breaker_state": "open", "breaker_opened_at": fields.Datetime.now(),
                       "breaker_last_error": "Connection refused"})
        before = self.sims.state.request_count
        self.assertConnection(backend, False, "Circuit open")
        self.assertEqual(self.sims.state.request_count, before, "no call left this process")
        # An old opening (cool-down over) does not stop anyone: the next call probes.
        backend._breaker().record_success()
        backend.write({"breaker_state": "open",
                       "breaker_opened_at": fields.Datetime.now() - timedelta(seconds=120)})
        self.assertConnection(backend, True, "Connection OK")
        self.assertEqual(backend.breaker_state, "closed")

    def test_archived_backend_makes_no_call(self):
        backend = self.rest_backend(code="archived", active=False)
        self.assertConnection(backend, False, "archived")
