"""Running the server for `backtriage serve`, and saying where it is only once it answers.

Loading the reader takes seconds, and uvicorn binds its port only after that (with several
processes, each loads it after the port is bound). So the address is not printed at the start:
the port is bound here first (a port in use is one plain line, not a traceback), then a thread
asks the server for `/healthz` through that port, and when the first answer comes back it prints
where the patient's page and the API docs are. Whatever prints it, a connection then succeeds.
"""

from __future__ import annotations

import errno
import http.client
import socket
import sys
import threading
import time
from typing import Any

from backtriage.errors import InvalidInputError

__all__ = ["DOCS_PATH", "ready_message", "serve_app"]

#: Where the API's interactive documentation is served (FastAPIOffline's Swagger UI).
DOCS_PATH = "/docs"
#: Seconds between attempts to reach the server while it starts.
_POLL = 0.1
#: Hosts that mean "every address of this machine", and the address to reach it by here.
_EVERYWHERE = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}


def serve_app(app: Any, host: str, port: int, mode: str, workers: int = 1) -> None:
    """Serve `app` (an app, or with several `workers` the import string of its factory) until
    stopped, printing where it is once it answers. `mode` says whether an API key is needed."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from backtriage.logs import server_log_config

    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        workers=workers,
        factory=workers > 1,
        log_level="warning",
        log_config=server_log_config(),
        access_log=False,
    )
    sock = _bind(host, port)
    _say(f"starting backtriage ({mode}): loading the reader takes a few seconds…")
    threading.Thread(target=_announce, args=(host, port, mode), name="announce", daemon=True).start()
    try:
        if workers > 1:
            Multiprocess(config, sockets=[sock]).run()
            return
        server = uvicorn.Server(config)
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        return
    finally:
        sock.close()
    if not server.started:
        sys.exit(3)  # uvicorn's own exit code for a server that did not start


def ready_message(host: str, port: int, mode: str) -> str:
    """What is printed once the server answers: where the page and the API docs are."""
    shown = _EVERYWHERE.get(host, host)
    address = f"[{shown}]" if ":" in shown else shown
    base = f"http://{address}:{port}"
    everywhere = " (and at this machine's other addresses)" if host in _EVERYWHERE else ""
    return (
        f"backtriage is ready ({mode}){everywhere}.\n"
        f"  The page:     {base}/\n"
        f"  The API docs: {base}{DOCS_PATH}\n"
        "Stop it with Ctrl+C."
    )


def _bind(host: str, port: int) -> socket.socket:
    """The listening socket's address, taken now: if it is in use, say so plainly."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if isinstance(exc, socket.gaierror):
            why = "no such address"
        elif exc.errno == errno.EADDRINUSE:
            why = "the port is in use (is backtriage already running?)"
        else:
            why = exc.strerror or type(exc).__name__
        raise InvalidInputError(
            f"cannot listen on {host} port {port}: {why}; choose another with --host or --port"
        ) from None
    sock.set_inheritable(True)  # several processes serve from it
    return sock


def _announce(host: str, port: int, mode: str) -> None:
    """Wait until the server answers through its port, then say where it is (once)."""
    target = _EVERYWHERE.get(host, host)
    while True:
        connection = http.client.HTTPConnection(target, port, timeout=30)
        try:
            connection.request("GET", "/healthz")
            connection.getresponse().read()
        except OSError:  # not listening yet (refused), or reset while it starts
            time.sleep(_POLL)
            continue
        finally:
            connection.close()
        _say(ready_message(host, port, mode))
        return


def _say(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()
