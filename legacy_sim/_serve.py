"""What every simulator's HTTP server shares: a threaded server that can cut its keep-alive
connections, run in a background thread with its state, on a free port when asked for port 0."""

import json
import socket
import threading
import urllib.error
import urllib.request
from http.server import ThreadingHTTPServer


def post_json(url, api_key, body, timeout=10):
    """POST ``body`` as JSON to ``url`` (an Odoo inbound URL) with ``X-API-Key``, as a legacy system
    pushes an event: (HTTP status, decoded answer)."""
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json", "X-API-Key": api_key},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 - a loopback test URL
            return answer.status, json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


class TrackingMixin:
    """Remembers open connections so that taking a server down also cuts keep-alive ones."""

    daemon_threads = True
    allow_reuse_address = True

    def process_request(self, request, client_address):
        self.__dict__.setdefault("_open", set()).add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        self.__dict__.setdefault("_open", set()).discard(request)
        super().shutdown_request(request)

    def cut_connections(self):
        for sock in list(self.__dict__.get("_open", ())):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class TrackingHttpServer(TrackingMixin, ThreadingHTTPServer):
    pass


class BackgroundServer:
    """A simulator in a background thread: ``state_class(**state_options)`` served by
    ``handler_class`` (which reads it as ``self.server.state``); ``port=0`` picks a free port."""

    state_class = None
    handler_class = None
    thread_name = "legacy-sim"
    url_path = ""  # appended to http://host:port in ``url``

    def __init__(self, host="127.0.0.1", port=0, **state_options):
        self.state = self.state_class(**state_options)
        self.server = TrackingHttpServer((host, port), self.handler_class)
        self.server.state = self.state
        self.host, self.port = host, self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, name=self.thread_name, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://{self.host}:{self.port}{self.url_path}"

    def reset(self):
        self.state.reset()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.server.cut_connections()
        self.thread.join(5)
