"""A small PACT host standing in for a partner, served from a thread on loopback.

It offers what the exchange calls when it answers a partner: ``POST /auth/token``
(client credentials with HTTP Basic, RFC 6749 4.4) and ``POST /3/events`` (Bearer
token, ``application/cloudevents+json``), records every request, and can be told to
fail (``events_status``) or be stopped (the partner is down). By default it speaks
HTTPS with a self-signed certificate made for 127.0.0.1; ``ca_file`` is the file to
trust (settings.PACT_TLS_CA_FILE).
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
import secrets
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost (its own trust anchor)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test partner host")])
    now = datetime.datetime.now(datetime.UTC)
    public = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / "partner-cert.pem", folder / "partner-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class PartnerHostServer:
    """The partner's PACT host. ``client_id``/``client_secret``: what it issued to the
    exchange; tokens it hands out are accepted on ``/3/events``."""

    client_id: str
    client_secret: str
    folder: Path
    tls: bool = True
    events_status: int = 200
    received: list[Received] = field(default_factory=list)
    tokens: set[str] = field(default_factory=set)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _port: int = 0
    ca_file: str = ""
    _key_file: str = ""

    @property
    def base_url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self._port}"

    @property
    def source(self) -> str:
        """The ``source`` of events this host sends (PACT's ``//host/3/events``)."""
        return f"//127.0.0.1:{self._port}/3/events"

    def events(self) -> list[dict[str, Any]]:
        """The CloudEvents accepted on /3/events, in order."""
        return [
            r.json()
            for r in self.received
            if r.path == "/3/events" and r.headers.get("x-answered") == "200"
        ]

    def start(self) -> PartnerHostServer:
        handler = _handler_for(self)
        server = ThreadingHTTPServer(("127.0.0.1", self._port), handler)
        server.daemon_threads = True
        if self.tls:
            if not self.ca_file:
                cert, key = make_certificate(self.folder)
                self.ca_file = str(cert)
                self._key_file = str(key)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(self.ca_file, self._key_file)
            server.socket = context.wrap_socket(server.socket, server_side=True)
        self._port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Take the host down (connections are refused); ``start`` brings it back on
        the same port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None


def _handler_for(host: PartnerHostServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

        def _read(self) -> Received:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            received = Received(
                method=self.command,
                path=self.path,
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
            )
            host.received.append(received)
            return received

        def _answer(self, received: Received | None, status: int, body: Any = None) -> None:
            data = b"" if body is None else json.dumps(body).encode()
            if received is not None:
                received.headers["x-answered"] = str(status)
            self.send_response(status)
            if data:
                self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            received = self._read()
            self._answer(received, 404, {"code": "NotFound", "message": "no such resource"})

        def do_POST(self) -> None:
            received = self._read()
            if self.path == "/auth/token":
                self._token(received)
            elif self.path == "/3/events":
                self._event(received)
            else:
                self._answer(received, 404, {"code": "NotFound", "message": "no such action"})

        def _token(self, received: Received) -> None:
            scheme, _, encoded = received.headers.get("authorization", "").partition(" ")
            try:
                pair = base64.b64decode(encoded, validate=True).decode()
            except ValueError:
                pair = ""
            client_id, _, secret = pair.partition(":")
            form = parse_qs(received.body.decode())
            if (
                scheme.lower() != "basic"
                or unquote(client_id) != host.client_id
                or unquote(secret) != host.client_secret
            ):
                self._answer(received, 401, {"error": "invalid_client"})
                return
            if form.get("grant_type") != ["client_credentials"]:
                self._answer(received, 400, {"error": "unsupported_grant_type"})
                return
            token = secrets.token_urlsafe(24)
            host.tokens.add(token)
            self._answer(
                received,
                200,
                {"access_token": token, "token_type": "Bearer", "expires_in": 3600},
            )

        def _event(self, received: Received) -> None:
            scheme, _, token = received.headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or token not in host.tokens:
                self._answer(received, 401, {"code": "BadRequest", "message": "bad token"})
                return
            content_type = received.headers.get("content-type", "")
            if not content_type.startswith("application/cloudevents+json"):
                self._answer(received, 400, {"code": "BadRequest", "message": content_type})
                return
            try:
                json.loads(received.body)
            except ValueError:
                self._answer(received, 400, {"code": "BadRequest", "message": "not JSON"})
                return
            if host.events_status != 200:
                self._answer(
                    received, host.events_status, {"code": "InternalError", "message": "down"}
                )
                return
            self._answer(received, 200)

    return Handler
