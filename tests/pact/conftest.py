"""The PACT host API over real HTTPS: a TLS live server and an HTTP client that checks
its certificate.

``pact_server`` runs the whole application (Django's live-server thread, as
pytest-django's ``live_server`` does) behind a listening socket wrapped in TLS, with a
throwaway certificate authority and server certificate made here with
``cryptography``. ``https`` is an ``httpx.Client`` for it that verifies the server
against that CA (no ``verify=False`` anywhere). Tests using them run with a
transactional database, so the server thread sees what the test wrote.

``world``: the data, made through the services as a user would (submission, grants
with ``exchange.sharing.grant_create``, ``footprint_publish``). ``world.buyer`` and
``world.supplier`` are API clients (id, secret) of the buyer "other" and of acme.

====  ========  =========================================  ===========================
fp    supplier  what                                       the buyer sees it through
====  ========  =========================================  ===========================
A1    acme      product alpha v1, DE, HS class, valid      product grant (alpha);
                2026-01-01..2027-01-01, created 2026-01-10  deprecated by A2
A2    acme      product alpha v2, DE, HS, valid            product grant (alpha)
                2026-06-01..2028-01-01, created 2026-05-01
B     acme      product beta, FR, urn:cpc:46410, no         footprint grant
                validity period, created 2026-02-01
C     acme      product gamma, region Europe, valid        zone publication
                2027-06-01..2028-01-01
D     acme      product delta, DE-BY                       nothing (private)
E     acme      product epsilon, FR                        a revoked grant: nothing
F     beta      zeta, DE                                   nothing
G     beta      eta, FR, HS, 2026-01-01..2027-01-01        footprint grant
====  ========  =========================================  ===========================
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# --------------------------------------------------------------------- certificates


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_tls_material(folder: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate it signed for 127.0.0.1 and localhost:
    (ca.pem, server.pem, server-key.pem)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("carbonx test CA"))
        .issuer_name(_name("carbonx test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_path, cert_path, key_path = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    ca_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ca_path, cert_path, key_path


# ---------------------------------------------------------------------- the server


class TlsLiveServer:
    """The application served over HTTPS from a thread (Django's LiveServerThread with
    its listening socket wrapped in TLS)."""

    def __init__(self, certfile: Path, keyfile: Path, ca_file: Path) -> None:
        from django.core.servers.basehttp import ThreadedWSGIServer
        from django.db import connections
        from django.test.testcases import (
            LiveServerThread,
            QuietWSGIRequestHandler,
            _StaticFilesHandler,
        )

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(certfile, keyfile)

        class Handler(QuietWSGIRequestHandler):
            def setup(self) -> None:
                # The handshake runs in this connection's thread, not in accept().
                cast(ssl.SSLSocket, self.request).do_handshake()
                super().setup()

            def get_environ(self) -> dict[str, Any]:
                environ: dict[str, Any] = super().get_environ()
                environ["HTTPS"] = "on"  # wsgiref then sets wsgi.url_scheme = "https"
                return environ

        class Server(ThreadedWSGIServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                if isinstance(sys.exc_info()[1], ssl.SSLError | ConnectionError):
                    return  # e.g. a plain-HTTP client on the TLS port
                super().handle_error(request, client_address)

        class Thread(LiveServerThread):
            server_class = Server

            def _create_server(self, connections_override: Any = None) -> Any:
                httpd = self.server_class(
                    (self.host, self.port),
                    Handler,
                    allow_reuse_address=False,
                    connections_override=connections_override,
                )
                httpd.socket = context.wrap_socket(
                    httpd.socket, server_side=True, do_handshake_on_connect=False
                )
                return httpd

        overrides: dict[str, Any] = {
            conn.alias: conn
            for conn in connections.all()
            if conn.vendor == "sqlite" and cast(Any, conn).is_in_memory_db()
        }
        self._overrides = overrides
        self.ca_file = ca_file
        self.thread = Thread(
            "127.0.0.1", static_handler=_StaticFilesHandler, connections_override=overrides
        )
        self.thread.daemon = True
        for conn in overrides.values():
            conn.inc_thread_sharing()
        self.thread.start()
        self.thread.is_ready.wait()
        if self.thread.error:
            raise self.thread.error

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.thread.port}"

    def stop(self) -> None:
        self.thread.terminate()
        for conn in self._overrides.values():
            conn.dec_thread_sharing()


@pytest.fixture(scope="session")
def pact_server(
    django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TlsLiveServer]:
    ca_file, certfile, keyfile = make_tls_material(tmp_path_factory.mktemp("pact-tls"))
    with django_db_blocker.unblock():
        server = TlsLiveServer(certfile, keyfile, ca_file)
    yield server
    server.stop()


@pytest.fixture
def server(pact_server: TlsLiveServer, transactional_db: Any, settings: Any) -> TlsLiveServer:
    """The TLS server for one test (the database transactional, 127.0.0.1 allowed)."""
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "127.0.0.1", "localhost"]
    return pact_server


@pytest.fixture
def https(server: TlsLiveServer) -> Iterator[httpx.Client]:
    """An HTTP client for the server that verifies its certificate against the test CA."""
    verify = ssl.create_default_context(cafile=str(server.ca_file))
    with httpx.Client(base_url=server.url, verify=verify, timeout=30) as client:
        yield client


# ------------------------------------------------------------------------- the data


@dataclass
class World:
    """What the suite works with; footprints by letter (see the module text)."""

    cast: Any
    beta: Any
    buyer: tuple[str, str]  # other's API client: (client_id, secret)
    supplier: tuple[str, str]  # acme's API client
    footprints: dict[str, Any] = field(default_factory=dict)

    def ids(self, *letters: str) -> set[str]:
        return {str(self.footprints[letter].pf_id) for letter in letters}

    def id(self, letter: str) -> str:
        return str(self.footprints[letter].pf_id)

    @property
    def visible_to_buyer(self) -> set[str]:
        return self.ids("A1", "A2", "B", "C", "G")

    @property
    def hidden_from_buyer(self) -> set[str]:
        return self.ids("D", "E", "F")


PRODUCT = "urn:pact:acme.example:product:"
BETA_PRODUCT = "urn:pact:beta.example:product:"
HS = "urn:pact:wcoomdd.org:hs-code:283691"
CPC = "urn:cpc:46410"


@pytest.fixture
def world(transactional_db: Any) -> World:
    from companies import services as company_services
    from companies.access import Actor
    from exchange import services, sharing
    from exchange.signing import sign_footprint
    from tests.exchange.helpers import acme_document
    from tests.exchange.pact_examples import OMIT, valid_footprint
    from tests.factories import add_member, build_cast, make_company
    from trust import keys as trust_keys

    cast = build_cast()
    editor = cast.actor("editor")

    def acme(**overrides: Any) -> Any:
        token = sign_footprint(acme_document(cast, **overrides), cast.own_private_key)
        return services.footprint_submit(actor=editor, jws=token).footprint

    beta = make_company("Beta Cells Ltd", roles=("supplier",), slug="beta")
    beta_admin = Actor(
        company=beta, role="admin", user=add_member(beta, "beta_admin", "admin").user
    )
    beta_key = trust_keys.generate_private_key()
    company_services.signing_key_register(
        actor=beta_admin, jwk=trust_keys.public_jwk(beta_key), label="own"
    )

    def beta_footprint(**overrides: Any) -> Any:
        import uuid

        document = valid_footprint(
            id=str(uuid.uuid4()),
            companyName=beta.legal_name,
            companyIds=[i.urn for i in beta.identifiers.all()],
            **overrides,
        )
        token = sign_footprint(document, beta_key)
        return services.footprint_submit(actor=beta_admin, jws=token).footprint

    fps: dict[str, Any] = {}
    fps["A1"] = acme(
        created="2026-01-10T00:00:00Z",
        productIds=[PRODUCT + "alpha"],
        productClassifications=[HS],
        validityPeriodStart="2026-01-01T00:00:00Z",
        validityPeriodEnd="2027-01-01T00:00:00Z",
        pcf={"geographyCountry": "DE"},
    )
    fps["A2"] = acme(
        created="2026-05-01T00:00:00Z",
        productIds=[PRODUCT + "alpha"],
        productClassifications=[HS],
        precedingPfIds=[str(fps["A1"].pf_id)],
        validityPeriodStart="2026-06-01T00:00:00Z",
        validityPeriodEnd="2028-01-01T00:00:00Z",
        pcf={"geographyCountry": "DE"},
    )
    fps["A1"].refresh_from_db()
    fps["B"] = acme(
        created="2026-02-01T00:00:00Z",
        productIds=[PRODUCT + "beta"],
        productClassifications=[CPC],
        validityPeriodStart=OMIT,
        validityPeriodEnd=OMIT,
        pcf={"geographyCountry": "FR"},
    )
    fps["C"] = acme(
        productIds=[PRODUCT + "gamma"],
        productClassifications=OMIT,
        validityPeriodStart="2027-06-01T00:00:00Z",
        validityPeriodEnd="2028-01-01T00:00:00Z",
        pcf={"geographyCountry": OMIT, "geographyRegionOrSubregion": "Europe"},
    )
    fps["D"] = acme(
        productIds=[PRODUCT + "delta"],
        pcf={"geographyCountry": OMIT, "geographyCountrySubdivision": "DE-BY"},
    )
    fps["E"] = acme(productIds=[PRODUCT + "epsilon"], pcf={"geographyCountry": "FR"})
    fps["F"] = beta_footprint(productIds=[BETA_PRODUCT + "zeta"], pcf={"geographyCountry": "DE"})
    fps["G"] = beta_footprint(productIds=[BETA_PRODUCT + "eta"], pcf={"geographyCountry": "FR"})

    admin = cast.actor("admin")
    sharing.grant_create(actor=admin, buyer=cast.other, product_id=fps["A1"].product_id)
    sharing.grant_create(actor=admin, buyer=cast.other, footprint_id=str(fps["B"].pf_id))
    sharing.footprint_publish(actor=admin, footprint_id=str(fps["C"].pf_id))
    revoked = sharing.grant_create(actor=admin, buyer=cast.other, footprint_id=str(fps["E"].pf_id))
    sharing.grant_revoke(actor=admin, grant=revoked, reason="sent by mistake")
    sharing.grant_create(actor=beta_admin, buyer=cast.other, footprint_id=str(fps["G"].pf_id))

    buyer_client, buyer_secret = company_services.api_client_create(
        actor=cast.actor("outsider"), name="Other's PACT reader"
    )
    return World(
        cast=cast,
        beta=beta,
        buyer=(buyer_client.client_id, buyer_secret),
        supplier=(cast.client.client_id, cast.client_secret),
        footprints=fps,
    )


# ------------------------------------------------------------------------ helpers


def get_token(client: httpx.Client, credentials: tuple[str, str]) -> str:
    response = client.post(
        "/auth/token", data={"grant_type": "client_credentials"}, auth=credentials
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


@pytest.fixture
def connect(server: TlsLiveServer) -> Iterator[Any]:
    """A factory of further verifying clients, each with a token for ``credentials``."""
    clients: list[httpx.Client] = []

    def make(credentials: tuple[str, str]) -> httpx.Client:
        verify = ssl.create_default_context(cafile=str(server.ca_file))
        client = httpx.Client(base_url=server.url, verify=verify, timeout=30)
        clients.append(client)
        client.headers["Authorization"] = f"Bearer {get_token(client, credentials)}"
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def buyer(https: httpx.Client, world: World) -> httpx.Client:
    """``https`` with the buyer's Bearer token."""
    https.headers["Authorization"] = f"Bearer {get_token(https, world.buyer)}"
    return https


def collect(client: httpx.Client, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every footprint of a listing, following ``Link: rel="next"`` to the end."""
    found: list[dict[str, Any]] = []
    response = client.get(path, params=params or None)
    for _ in range(1000):
        assert response.status_code == 200, response.text
        found.extend(response.json()["data"])
        following = response.links.get("next")
        if following is None:
            return found
        response = client.get(following["url"])
    raise AssertionError("pagination does not end")


def ids_of(documents: list[dict[str, Any]]) -> list[str]:
    return [document["id"] for document in documents]
