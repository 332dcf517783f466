"""Serving the simulator over HTTP: one WSGI app, a threaded server in the background."""
from __future__ import annotations

import logging
import threading
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from .control import ControlApi
from .rest import RestApi

if TYPE_CHECKING:  # pragma: no cover
    from .core import Simulator

log = logging.getLogger(__name__)


def make_app(sim: "Simulator"):
    """``/sim/…`` goes to the control API, everything else to the REST API."""
    rest, control = RestApi(sim), ControlApi(sim)

    def app(environ, start_response):
        if environ.get("PATH_INFO", "").startswith("/sim/"):
            return control(environ, start_response)
        return rest(environ, start_response)

    return app


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # listen backlog: many scripted parties at once (socketserver's 5 reset them)


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        log.debug("%s - %s", self.address_string(), format % args)


class SimulatorServer:
    """A threaded WSGI server on ``host:port`` (0 picks a free port) run in a daemon thread."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0):
        self._httpd = make_server(host, port, app, server_class=_ThreadingWSGIServer,
                                  handler_class=_QuietHandler)
        self.host = host
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,),
                                        name="twilio-sim-http", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        self._thread.start()

    def serve_forever(self) -> None:
        """Serve in the calling thread (the command line)."""
        self._httpd.serve_forever()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._httpd.shutdown()
        self._httpd.server_close()
