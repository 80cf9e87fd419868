"""Legacy system simulators: a REST system and a SOAP procurement gateway on 127.0.0.1.

Used by ``setup/run.sh`` (demo), the tests and the benchmarks. Start them with
``python -m legacy_sim`` or, in tests, ``start_simulators(rest_port=0, soap_port=0)``.
See README.md beside this file for endpoints, credentials and fault settings.
"""

import socket
import socketserver
import threading
from http.server import ThreadingHTTPServer
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from ._serve import TrackingMixin as _TrackingMixin
from .rest import RestHandler
from .soap import make_wsgi_app
from .state import State

__all__ = ["Simulators", "start_simulators"]


class _QuietWsgiHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002
        return


class _ThreadingWsgiServer(_TrackingMixin, socketserver.ThreadingMixIn, WSGIServer):
    pass


class _RestServer(_TrackingMixin, ThreadingHTTPServer):
    pass


class Simulators:
    def __init__(self, host="127.0.0.1", rest_port=0, soap_port=0, **state_options):
        self.host = host
        self.state = State(**state_options)
        self._servers = {}
        self._ports = {"rest": rest_port, "soap": soap_port}
        self.state.controller = self  # the REST admin API can take the SOAP server down and up
        for target in ("rest", "soap"):
            self._start(target)

    def _start(self, target):
        if target == "rest":
            server = _RestServer((self.host, self._ports["rest"]), RestHandler)
            server.state = self.state
        else:
            server = _ThreadingWsgiServer((self.host, self._ports["soap"]), _QuietWsgiHandler)
            server.set_app(make_wsgi_app(self.state))
        self._ports[target] = server.server_address[1]
        thread = threading.Thread(target=server.serve_forever, name=f"legacy-sim-{target}", daemon=True)
        thread.start()
        self._servers[target] = (server, thread)

    @property
    def rest_url(self):
        return f"http://{self.host}:{self._ports['rest']}"

    @property
    def soap_url(self):
        return f"http://{self.host}:{self._ports['soap']}"

    @property
    def wsdl_url(self):
        return f"{self.soap_url}/procurement?wsdl"

    def set_faults(self, target, **settings):
        self.state.set_faults(target, **settings)

    def reset(self):
        self.state.reset()

    def take_down(self, target):
        """Stop listening: clients get 'connection refused' until bring_up()."""
        server, thread = self._servers.pop(target)
        server.shutdown()
        server.server_close()
        server.cut_connections()
        thread.join(5)

    def bring_up(self, target):
        if target not in self._servers:
            self._start(target)

    def stop(self):
        for target in list(self._servers):
            self.take_down(target)


def start_simulators(host="127.0.0.1", rest_port=0, soap_port=0, **state_options):
    """Start both simulators in background threads; ports 0 pick free ones."""
    return Simulators(host, rest_port, soap_port, **state_options)
