"""Shared fixtures.

* ``emulator_server`` (session) / ``emulator`` (per test, reset to the default fixture): the
  local Graph API emulator over real HTTP.
* ``callback_receiver``: a real webhook endpoint on loopback that answers Meta's hub challenge
  when the verify token matches and records webhook POSTs.
* ``openapi`` (session): request/response validation against Meta's OpenAPI description
  (vendored in ``tests/reference/meta-openapi/``).
* ``run_cli``: the installed ``waba-webhooks`` console script, as our app against the emulator.
* ``nodejs_sdk_tarball`` (session): sdk/nodejs installed, checked with ``tsc --strict``, compiled
  and packed (``tests/nodejs.py``), once for the SDK's test and the TypeScript e2e programs.
* ``java_sdk`` (session): sdk/java compiled and installed into Maven's local repository
  (``tests/java.py``), once for the SDK's test, the Java e2e program and examples/java.
* Reaping: every test must leave no process it started running (``reaps_what_it_starts``), and
  the session fails if any process it started outlives it (``pytest_sessionfinish``); see
  ``tests/processes.py``.

The report header names the pulumi SDK under test: bin/test runs the suite with the newest
supported SDK and the protocol and lifecycle tests again with the oldest.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import pytest
import requests
from openapi_core import Config, OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse
from openapi_schema_validator import OAS31Validator
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config as DynamicConfig

from tests import processes
from waba_webhooks.emulator import EmulatorAdmin, EmulatorServer
from waba_webhooks.emulator.fixtures import DEFAULT_APP_ID, DEFAULT_TOKEN, load
from waba_webhooks.emulator.receiver import WebhookReceiver
from waba_webhooks.rules.base import READ_RESULT_TAKES_INPUTS, Rules

REPO_ROOT = Path(__file__).resolve().parent.parent
#: Meta's documents the fidelity tests check against, kept in the repository (see their READMEs).
REFERENCE_DIR = Path(__file__).resolve().parent / "reference"
GRAPH_VERSION = "v23.0"


def pytest_report_header() -> str:
    """Which pulumi SDK (and from which virtualenv) this run tests."""
    refresh = "records drifted inputs" if READ_RESULT_TAKES_INPUTS else "keeps the last inputs"
    return (f"pulumi SDK {importlib.metadata.version('pulumi')} in {sys.prefix} "
            f"(ReadResult inputs: {READ_RESULT_TAKES_INPUTS}; a refresh {refresh})")


# --------------------------------------------------------------------------- the emulator


@dataclass
class EmulatorHandle:
    """What a test needs to talk to the emulator as our app, plus live views of its state."""

    url: str
    admin: EmulatorAdmin
    token: str
    app_id: str
    version: str = GRAPH_VERSION

    def graph_url(self, path: str) -> str:
        """``<url>/<version>/<path>``."""
        return f"{self.url}/{self.version}/{path.lstrip('/')}"

    @property
    def headers(self) -> dict[str, str]:
        """The ``Authorization: Bearer`` header of our app's token."""
        return {"Authorization": f"Bearer {self.token}"}

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """A Graph call as our app; ``headers=`` replaces the token header (``{}``: no token)."""
        headers = kwargs.pop("headers", self.headers)
        return requests.request(method, self.graph_url(path), headers=headers, timeout=10, **kwargs)

    @property
    def waba_ids(self) -> list[str]:
        """WABA ids of the current state, in fixture order."""
        return [waba["id"] for waba in self.admin.state()["wabas"]]

    @property
    def phone_ids(self) -> list[str]:
        """Phone number ids of the current state, in fixture order."""
        return [phone["id"] for phone in self.admin.state()["phone_numbers"]]

    @property
    def routable_phone_ids(self) -> list[str]:
        """Phone number ids whose WABA our app is subscribed to, in fixture order: Meta refuses
        a phone override elsewhere (docs/meta-rules.md)."""
        state = self.admin.state()
        subscribed = {w["id"] for w in state["wabas"] if self.app_id in w["subscriptions"]}
        return [p["id"] for p in state["phone_numbers"] if p["waba_id"] in subscribed]

    @property
    def never_subscribed_waba_ids(self) -> list[str]:
        """WABA ids no app is subscribed to (what a new customer meets), in fixture order."""
        return [w["id"] for w in self.admin.state()["wabas"] if not w["subscriptions"]]

    @property
    def app_callback_url(self) -> str:
        """Our app's dashboard callback URL."""
        return str(self._app()["callback_url"])

    def waba_of(self, phone_id: str) -> str:
        """The WABA owning a phone number."""
        return str(self._phone(phone_id)["waba_id"])

    def is_subscribed(self, waba_id: str) -> bool:
        """Whether our app is subscribed to the WABA."""
        return self.app_id in self._waba(waba_id)["subscriptions"]

    def waba_override(self, waba_id: str) -> str | None:
        """Our app's override on the WABA, or None."""
        return self._waba(waba_id)["subscriptions"].get(self.app_id)

    def phone_override(self, phone_id: str) -> str | None:
        """Our app's override on the phone number, or None."""
        return self._phone(phone_id)["overrides"].get(self.app_id)

    def _app(self) -> dict[str, Any]:
        return next(a for a in self.admin.state()["apps"] if a["id"] == self.app_id)

    def _waba(self, waba_id: str) -> dict[str, Any]:
        return next(w for w in self.admin.state()["wabas"] if w["id"] == waba_id)

    def _phone(self, phone_id: str) -> dict[str, Any]:
        return next(p for p in self.admin.state()["phone_numbers"] if p["id"] == phone_id)


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[EmulatorServer]:
    """One emulator on a free loopback port for the whole session (default fixture)."""
    with EmulatorServer() as server:
        yield server


@pytest.fixture
def emulator(emulator_server: EmulatorServer) -> Iterator[EmulatorHandle]:
    """The session emulator, re-seeded with the default fixture (log, faults, latency cleared)."""
    admin = EmulatorAdmin(emulator_server.url)
    admin.seed(load())  # seed, not reset: a test may have changed the baseline
    yield EmulatorHandle(emulator_server.url, admin, DEFAULT_TOKEN, DEFAULT_APP_ID)
    admin.close()


# --------------------------------------------------------------------------- webhook receiver


class CallbackReceiver(WebhookReceiver):
    """The package's webhook receiver with one verify token and a default URL, ``/webhook``."""

    def __init__(self, verify_token: str = "receiver-verify-token") -> None:
        super().__init__([verify_token])
        self.verify_token = verify_token

    @property
    def url(self) -> str:
        """The default webhook URL, ``<base_url>/webhook``."""
        return self.url_for("webhook")


@pytest.fixture
def callback_receiver() -> Iterator[CallbackReceiver]:
    """A running receiver on a free port (verify token ``receiver-verify-token``)."""
    with CallbackReceiver() as receiver:
        yield receiver


# --------------------------------------------------------------------------- OpenAPI checks


def _spec_path() -> Path:
    override = os.environ.get("WABA_OPENAPI_SPEC")
    if override:
        return Path(override)
    return REFERENCE_DIR / "meta-openapi" / "business-messaging-api_v23.0.yaml"


class GraphOpenAPIRequest(RequestsOpenAPIRequest):
    """A requests request seen by openapi-core as sent to the spec's server, with an explicit
    path template (many spec paths are a bare ``/{Version}/{Some-ID}``, so openapi-core's own
    guess would often pick the wrong one)."""

    SERVER = "https://graph.facebook.com"

    def __init__(self, request: requests.PreparedRequest, path_template: str | None) -> None:
        super().__init__(request)
        self.path_pattern = path_template
        if path_template is not None:
            self.parameters.path = match_template(path_template, self.path) or {}

    @property
    def host_url(self) -> str:
        return self.SERVER


def match_template(template: str, path: str) -> dict[str, str] | None:
    """Path variables of ``path`` under an OpenAPI template such as ``/{Version}/{WABA-ID}``."""
    names = re.findall(r"{([^}]+)}", template)
    found = re.match("^" + re.sub(r"{[^}]+}", "([^/]+)", template) + "$", path)
    return dict(zip(names, found.groups(), strict=True)) if found else None


class OpenAPIChecker:
    """Validates Graph requests and responses against Meta's OpenAPI description.

    The spec is loaded with its document check off (it carries a non-standard key). The path
    template is the first of :attr:`PATH_TEMPLATES` matching the request path, unless given.
    """

    PATH_TEMPLATES = (
        "/{Version}/{WABA-ID}/subscribed_apps",
        "/{Version}/{WABA-ID}/phone_numbers",
        "/{Version}/{Business-ID}/owned_whatsapp_business_accounts",
        "/{Version}/{Business-ID}/client_whatsapp_business_accounts",
        "/{Version}/{Phone-Number-ID}",
    )

    def __init__(self, spec_path: Path) -> None:
        self.spec_path = spec_path
        self.openapi = OpenAPI.from_file_path(
            str(spec_path), config=Config(spec_validator_cls=None)
        )

    def _wrap(
        self, request: requests.PreparedRequest, path_template: str | None
    ) -> GraphOpenAPIRequest:
        if path_template is None:
            path = urlsplit(request.url or "").path
            path_template = next(
                (t for t in self.PATH_TEMPLATES if match_template(t, path) is not None), None
            )
        return GraphOpenAPIRequest(request, path_template)

    def validate_request(
        self, request: requests.PreparedRequest, path_template: str | None = None
    ) -> None:
        """Raise an openapi-core validation error unless ``request`` matches the spec."""
        self.openapi.validate_request(self._wrap(request, path_template))

    def validate_response(
        self,
        request: requests.PreparedRequest,
        response: requests.Response,
        path_template: str | None = None,
    ) -> None:
        """Raise an openapi-core validation error unless ``response`` matches the spec for
        ``request``'s operation and HTTP status."""
        self.openapi.validate_response(
            self._wrap(request, path_template), RequestsOpenAPIResponse(response)
        )

    def validate_schema(self, schema_name: str, value: Any) -> None:
        """Validate ``value`` against ``components/schemas/<schema_name>`` (one without $ref)."""
        with (self.openapi.spec / "components" / "schemas" / schema_name).open() as schema:
            OAS31Validator(dict(schema)).validate(value)


@pytest.fixture(scope="session")
def nodejs_sdk_tarball(tmp_path_factory) -> Path:
    """The generated Node.js SDK as ``npm pack`` gives it, built once for the session (npm and
    the npm registry are needed: see ``tests/nodejs.py``)."""
    from tests.nodejs import build_sdk

    return build_sdk(tmp_path_factory.mktemp("nodejs-sdk"))


@pytest.fixture(scope="session")
def java_sdk(tmp_path_factory) -> Path:
    """The generated Java SDK built and installed into Maven's local repository once for the
    session, as ``com.wabawebhooks:whatsapp:<version>``; the jar it built (Maven and Maven
    Central or its local repository are needed: see ``tests/java.py``)."""
    from tests.java import install_sdk

    return install_sdk(tmp_path_factory.mktemp("java-sdk"))


@pytest.fixture(scope="session")
def openapi() -> OpenAPIChecker:
    """Meta's OpenAPI description (``$WABA_OPENAPI_SPEC``, else the vendored copy)."""
    path = _spec_path()
    if not path.is_file():
        pytest.fail(f"OpenAPI description not found at {path} (check WABA_OPENAPI_SPEC)")
    return OpenAPIChecker(path)


# --------------------------------------------------------------------------- providers


Provider = TypeVar("Provider", bound=Rules)


def configured(cls: type[Provider], emulator: EmulatorHandle, **config: Any) -> Provider:
    """A provider as the provider process has it after ``configure()``: talking to the
    emulator as our app, with http:// callbacks to loopback allowed."""
    provider = cls()
    settings = {"whatsapp:accessToken": emulator.token, "whatsapp:graphUrl": emulator.url,
                "whatsapp:appId": emulator.app_id, "whatsapp:allowHttpLoopback": "true",
                **config}
    provider.configure(ConfigureRequest(DynamicConfig(settings, "test")))
    return provider


# --------------------------------------------------------------------------- the command line

#: The `waba-webhooks` console script of the environment running the tests.
CONSOLE_SCRIPT = str(Path(sys.executable).with_name("waba-webhooks"))


def run_cli(emulator: EmulatorHandle, *args: str, stdin: str | None = None,
            **environ: str) -> subprocess.CompletedProcess[str]:
    """Run ``waba-webhooks <args>`` as our app against the emulator (settings from the
    environment, as the provider reads them; http:// callbacks to loopback allowed)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("WHATSAPP_")}
    env.update({"WHATSAPP_ACCESS_TOKEN": emulator.token, "WHATSAPP_GRAPH_URL": emulator.url,
                "WHATSAPP_ALLOW_HTTP_LOOPBACK": "true", **environ})
    return subprocess.run([CONSOLE_SCRIPT, *args], input=stdin, capture_output=True, text=True,
                          env=env, timeout=120, check=False)


# --------------------------------------------------------------------------- reaping

#: How long a process a test started may take to exit once the test is over (the engine stops
#: its plugins with SIGINT, then SIGKILL after a cooldown).
REAP_GRACE_SECONDS = 15


def pytest_configure(config: pytest.Config) -> None:
    """Mark the session: every process it starts carries this run's id (tests/processes.py)."""
    processes.mark_run()


@pytest.fixture(autouse=True)
def reaps_what_it_starts() -> Iterator[None]:
    """Fails the test (at teardown) if a process it started is still running once its other
    fixtures are torn down; such processes are killed. Processes of session fixtures, started
    before the test, are left to the session check."""
    before = {p.pid for p in processes.started_by_this_run()}
    yield
    new = [p for p in processes.started_by_this_run() if p.pid not in before]
    left = processes.still_running(new, REAP_GRACE_SECONDS)
    if left:
        named = "; ".join(processes.describe(p) for p in left)
        processes.kill(left)
        pytest.fail(f"the test left {len(left)} process(es) running (killed now): {named}",
                    pytrace=False)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the session if any process it started (session fixtures included, all torn down by
    now) is still running, orphans included; they are listed and killed."""
    left = processes.still_running(processes.started_by_this_run(), REAP_GRACE_SECONDS)
    if left:
        message = (f"the test session left {len(left)} process(es) running (killed now):\n"
                   + "\n".join(f"  {processes.describe(p)}" for p in left))
        processes.kill(left)
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(message, red=True)
        else:
            print(message)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
