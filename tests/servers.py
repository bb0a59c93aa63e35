"""Real servers on loopback for end-to-end tests: SMTP (aiosmtpd) and HTTP (http.server).

Both bind 127.0.0.1 on a port the OS picks, record what they receive, and can
be scripted to fail. conftest.py exposes them as the `smtp_server` and
`http_server` fixtures.
"""

from __future__ import annotations

import email
import email.policy
import json
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller


@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    peer: tuple

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.content, policy=email.policy.default)


class _SmtpHandler:
    def __init__(self):
        self.mails: list[ReceivedMail] = []
        self.connections = 0
        self.refusals: dict[str, str] = {}
        self.drops: set[str] = set()

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        # One EHLO per SMTP session: the count of connections a client opened.
        self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refusals:
            return self.refusals[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        dropped = self.drops.intersection(envelope.rcpt_tos)
        if dropped:
            self.drops -= dropped
            server.transport.abort()
            return "421 Connection dropped"
        self.mails.append(ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), envelope.content, session.peer))
        return "250 Message accepted"


class _EphemeralPortController(Controller):
    def _trigger_server(self):
        # Bound to port 0: learn the port the OS chose before aiosmtpd connects to it.
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class SmtpServer:
    """An SMTP server on 127.0.0.1 that records each accepted mail in `mails`.

    `refuse(address, "550 …")` answers RCPT for that address with the given reply;
    `drop_once(address)` cuts the connection at that address's DATA, once.
    `configure(settings)` points Django's SMTP backend at it.
    """

    host = "127.0.0.1"

    def __init__(self):
        self.handler = _SmtpHandler()
        self._controller = _EphemeralPortController(self.handler, hostname=self.host, port=0)

    def __enter__(self) -> SmtpServer:
        self._controller.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._controller.stop()

    @property
    def port(self) -> int:
        return self._controller.port

    @property
    def mails(self) -> list[ReceivedMail]:
        return self.handler.mails

    @property
    def connections(self) -> int:
        return self.handler.connections

    def refuse(self, address: str, reply: str = "550 5.1.1 No such user") -> None:
        self.handler.refusals[address] = reply

    def drop_once(self, address: str) -> None:
        self.handler.drops.add(address)

    def configure(self, settings) -> None:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = self.host
        settings.EMAIL_PORT = self.port
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_TIMEOUT = 5


@dataclass
class Reply:
    """A scripted answer: status, body (a dict is sent as JSON), extra headers, and a delay before answering."""

    status: int = 200
    body: bytes | str | dict = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: bytes
    received_at: float

    def json(self):
        return json.loads(self.body)


class HttpServer:
    """A threaded HTTP server on 127.0.0.1 that records every request in `requests`.

    `script(path, Reply(500), Reply(200))` answers that path's requests in that
    order, the last reply repeating; an unscripted path answers 200 with
    `{"id": "prov_<n>"}`, as a provider would. `url` is the base URL.
    """

    def __init__(self):
        self.requests: list[ReceivedRequest] = []
        self.scripts: dict[str, list[Reply]] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> HttpServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def script(self, path: str, *replies: Reply) -> None:
        self.scripts[path] = list(replies)

    def requests_to(self, path: str) -> list[ReceivedRequest]:
        return [request for request in self.requests if request.path == path]

    def _next_reply(self, request: ReceivedRequest) -> Reply:
        with self._lock:
            self.requests.append(request)
            replies = self.scripts.get(request.path)
            if not replies:
                return Reply(200, {"id": f"prov_{len(self.requests)}"})
            return replies.pop(0) if len(replies) > 1 else replies[0]

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                request = ReceivedRequest(
                    method=self.command,
                    path=self.path,
                    headers={name.lower(): value for name, value in self.headers.items()},
                    body=self.rfile.read(length),
                    received_at=time.monotonic(),
                )
                reply = server._next_reply(request)
                time.sleep(reply.delay)
                body = reply.body
                if isinstance(body, dict):
                    body = json.dumps(body).encode()
                elif isinstance(body, str):
                    body = body.encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Length", str(len(body)))
                    if isinstance(reply.body, dict):
                        self.send_header("Content-Type", "application/json")
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    # The client gave up (a timeout test); nothing to answer.
                    self.close_connection = True

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

            def log_message(self, format, *args):
                pass

        return Handler
