"""The run command's front door: what nginx does in front of Odoo in production, on one port.

With workers, Odoo serves HTTP from its workers on one port and websockets from its gevent process
on another; the web client opens `/websocket` on the port it was loaded from, so without a proxy
every attempt reaches an HTTP worker, which answers 500 ("Couldn't bind the websocket") and logs
a traceback, and the real-time channel (notifications, live updates) is dead. This proxy sends a
connection whose first request is a websocket upgrade of `/websocket` to the gevent port and every
other connection to the HTTP port, then copies bytes both ways. Routing per connection is enough:
browsers open a websocket on a connection of its own. Standard library only.

    python3 setup/proxy.py --listen 8069 --http 8070 --gevent 8072     (run.sh, docker-compose.yml)
"""

import argparse
import asyncio
import contextlib
import re
import sys

UPSTREAM = "127.0.0.1"
MAX_HEAD = 64 * 1024
BUFFER = 64 * 1024
UPGRADE = re.compile(rb"^upgrade:\s*websocket\s*$", re.I | re.M)


async def _pipe(reader, writer):
    """Copy one direction until its end, then pass the end on (a half close, as TCP allows)."""
    try:
        while data := await reader.read(BUFFER):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        writer.close()


def _target(head, args):
    request_line = head.split(b"\r\n", 1)[0].split(b" ")
    path = request_line[1] if len(request_line) > 1 else b""
    if (path == b"/websocket" or path.startswith((b"/websocket?", b"/websocket/"))) and UPGRADE.search(head):
        return args.gevent
    return args.http


async def _serve(client_reader, client_writer, args):
    try:
        head = await client_reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        client_writer.close()
        return
    try:
        upstream_reader, upstream_writer = await asyncio.open_connection(UPSTREAM, _target(head, args))
    except OSError:
        client_writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        with contextlib.suppress(Exception):
            await client_writer.drain()
        client_writer.close()
        return
    upstream_writer.write(head)
    try:
        await asyncio.gather(_pipe(client_reader, upstream_writer), _pipe(upstream_reader, client_writer))
    finally:
        upstream_writer.close()
        client_writer.close()


async def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (0.0.0.0 in a container)")
    parser.add_argument("--listen", type=int, required=True, help="port the browser uses")
    parser.add_argument("--http", type=int, required=True, help="Odoo's HTTP workers")
    parser.add_argument("--gevent", type=int, required=True, help="Odoo's gevent process (/websocket)")
    args = parser.parse_args(argv)
    server = await asyncio.start_server(lambda r, w: _serve(r, w, args), args.host, args.listen, limit=MAX_HEAD)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(asyncio.run(main()))
