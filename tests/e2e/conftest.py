"""End-to-end fixtures: the real pulumi CLI (Automation API), a file backend in a temporary
folder (or a PostgreSQL server of the test's own), a passphrase secrets provider, the emulator
and a callback receiver on free ports.

The CLI is the pinned test engine (tools/engine/go.mod); the SDK is whichever the running
virtualenv holds, and the e2e program runs in that same virtualenv, so bin/test's two passes
drive one CLI with the newest and the oldest supported SDK.
"""

from __future__ import annotations

import inspect
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from tests.e2e.postgres import PostgresServer, find_bin_dir

REPO = Path(__file__).resolve().parents[2]
PROGRAM = Path(__file__).resolve().parent / "program"
#: The routing program users run (`stacks/__main__.py`, project `waba-webhooks`).
ROUTING_PROGRAM = REPO / "stacks"
PASSPHRASE = "e2e-passphrase"
#: Where the engine finds the native plugin, `pulumi-resource-whatsapp`: the console script that
#: installing the package put beside the interpreter running the tests (the SDK end under test).
PLUGIN_DIR = Path(sys.executable).parent
ENGINE_MODULE = "github.com/pulumi/pulumi/pkg/v3"


def pinned_engine_version() -> str:
    """The test engine's version: the `pkg/v3` require line of tools/engine/go.mod, as
    tools/install-engine reads it (e.g. ``v3.277.0``)."""
    for line in (REPO / "tools" / "engine" / "go.mod").read_text().splitlines():
        words = line.split()
        if words[:1] == [ENGINE_MODULE] and len(words) > 1:
            return words[1]
    raise LookupError(f"no {ENGINE_MODULE} require line in tools/engine/go.mod")


@pytest.fixture(scope="session")
def engine() -> str:
    """The pinned test engine, the `pulumi` CLI that tools/install-engine provides. Missing or
    another version is a failure, never a skip: the test command (bin/test) installs it."""
    found = shutil.which("pulumi")
    if found is None:
        pytest.fail(
            "the pulumi CLI is not on PATH: run the tests with bin/test, which installs "
            "the pinned engine (tools/install-engine)"
        )
    want = pinned_engine_version()
    got = subprocess.run(
        [found, "version"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PULUMI_SKIP_UPDATE_CHECK": "true"},
    ).stdout.strip()
    if got != want:
        pytest.fail(f"pulumi CLI {got} on PATH is not the pinned test engine {want} "
                    "(tools/engine/go.mod): run the tests with bin/test")
    return found


@pytest.fixture(scope="session")
def pulumi_home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("pulumi-home")


class E2EStack:
    """One stack of a program (default: the e2e program) in its own project folder
    (``<root>/project``, copied from the program unless it exists) and, unless ``backend_url``
    names another backend, its own file backend (``<root>/state``)."""

    def __init__(self, root: Path, emulator: Any, pulumi_home: Path, verify_token: str,
                 name: str = "test", access_token: str | None = None,
                 backend_url: str | None = None, program: Path = PROGRAM,
                 project_name: str = "e2e", app_secret: str | None = None) -> None:
        self.emulator = emulator
        project = root / "project"
        if not project.exists():
            shutil.copytree(program, project,
                            ignore=shutil.ignore_patterns(".venv", "Pulumi.*.yaml", "__pycache__"))
            (project / "Pulumi.yaml").write_text(
                json.dumps(
                    {
                        "name": project_name,
                        "runtime": {
                            "name": "python",
                            # The SDK end under test: the virtualenv running pytest.
                            "options": {"virtualenv": sys.prefix},
                        },
                        **local_plugin(),
                    }
                )
            )
        self.env = {
            "PULUMI_BACKEND_URL": backend_url or f"file://{root / 'state'}",
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_HOME": str(pulumi_home),
        }
        self.state_dir = root / "state"
        self.state_dir.mkdir(exist_ok=True)
        self.stack = auto.create_or_select_stack(
            name,
            work_dir=str(project),
            opts=auto.LocalWorkspaceOptions(env_vars=self.env, secrets_provider="passphrase"),
        )
        self.stack.set_all_config(
            {
                "whatsapp:accessToken": auto.ConfigValue(
                    access_token or emulator.token, secret=True),
                "whatsapp:graphUrl": auto.ConfigValue(emulator.url),
                "whatsapp:allowHttpLoopback": auto.ConfigValue("true"),
                "e2e:verifyToken": auto.ConfigValue(verify_token, secret=True),
            }
        )
        if app_secret is not None:  # for an AppWebhookSubscription (the app token)
            self.stack.set_config("whatsapp:appSecret", auto.ConfigValue(app_secret, secret=True))
        self.outputs: list[str] = []
        #: The stack's config file, as `pulumi config` writes it.
        self.config_file = project / f"Pulumi.{name}.yaml"

    def declare(self, wabas: list[dict] | None = None, phones: list[dict] | None = None,
                routings: list[dict] | None = None, apps: list[dict] | None = None,
                door: str = "dynamic") -> None:
        """What the e2e program declares, with the dynamic resources or the native ones
        (`door`: ``dynamic`` or ``native``)."""
        self.stack.set_all_config(
            {
                "e2e:door": auto.ConfigValue(door),
                "e2e:wabas": auto.ConfigValue(json.dumps(wabas or [])),
                "e2e:phones": auto.ConfigValue(json.dumps(phones or [])),
                "e2e:routings": auto.ConfigValue(json.dumps(routings or [])),
                "e2e:apps": auto.ConfigValue(json.dumps(apps or [])),
            }
        )

    def run(self, operation: str, **options: Any) -> Any:
        """Run a stack operation as a user would (secrets hidden), keeping everything it printed
        and any error text for the secret scans."""
        method = getattr(self.stack, operation)
        if "show_secrets" in inspect.signature(method).parameters:
            options["show_secrets"] = False
        try:
            result = method(color="never", **options)
        except auto.CommandError as error:
            self.outputs.append(str(error))
            raise
        self.outputs.extend([result.stdout, result.stderr, repr(getattr(result, "summary", ""))])
        return result

    def up(self, **options: Any) -> auto.UpResult:
        return self.run("up", diff=True, **options)

    def preview(self, **options: Any) -> auto.PreviewResult:
        return self.run("preview", diff=True, **options)

    def refresh(self, **options: Any) -> auto.RefreshResult:
        return self.run("refresh", **options)

    def destroy(self, **options: Any) -> auto.DestroyResult:
        return self.run("destroy", **options)

    def leaked(self, *secrets: str) -> list[str]:
        """Where any of the secrets appears in what this stack's runs printed or exported: a
        little context around each hit, with the secret itself masked."""
        hits = []
        for text in self.outputs:
            for secret in secrets:
                at = text.find(secret)
                if at >= 0:
                    hits.append(text[max(0, at - 120):at].replace("\n", " ") + "<SECRET>")
        return hits

    def _export_cli(self) -> str:
        """`pulumi stack export` as a user runs it (the Automation API's export_stack shows
        secrets)."""
        done = subprocess.run(
            ["pulumi", "stack", "export", "--stack", self.stack.name],
            cwd=self.stack.workspace.work_dir, env={**os.environ, **self.env},
            capture_output=True, text=True, check=True,
        )
        return done.stdout

    def deployment(self) -> dict[str, Any]:
        """The stack's state, secrets encrypted."""
        return json.loads(self._export_cli())["deployment"]

    def inputs(self, name: str) -> dict[str, Any]:
        """The inputs the state holds for the resource named `name` (secrets encrypted)."""
        resources = self.deployment().get("resources", [])
        return next(r["inputs"] for r in resources if r["urn"].endswith(f"::{name}"))

    def export(self) -> str:
        """The exported state followed by every file of the backend, as text."""
        files = [p.read_text(errors="replace") for p in self.state_dir.rglob("*") if p.is_file()]
        text = "\n".join([self._export_cli(), *files])
        self.outputs.append(text)
        return text


def local_plugin(folder: Path = PLUGIN_DIR) -> dict[str, Any]:
    """The Pulumi.yaml entry that points the engine at the native plugin in ``folder`` (by
    default this checkout's), as the docs tell an infra repo to (no download, no warning about
    a plugin from $PATH)."""
    return {"plugins": {"providers": [{"name": "whatsapp", "path": str(folder)}]}}


def declare_all(stack: E2EStack, fixture: dict, receiver, suffix: str = "") -> dict[str, str]:
    """Declare an override on every WABA and phone number; return object id -> URL."""
    wabas = [{"name": f"waba-{w['id']}", "id": w["id"],
              "callbackUri": receiver.url_for(f"w/{w['id']}{suffix}")} for w in fixture["wabas"]]
    phones = [{"name": f"phone-{p['id']}", "id": p["id"],
               "callbackUri": receiver.url_for(f"p/{p['id']}{suffix}")}
              for p in fixture["phone_numbers"]]
    stack.declare(wabas=wabas, phones=phones)
    return {spec["id"]: spec["callbackUri"] for spec in wabas + phones}


def live_overrides(emulator, fixture: dict) -> dict[str, str]:
    """Every override our app has on the fixture's WABAs and phone numbers."""
    found = {}
    for waba in fixture["wabas"]:
        if (uri := emulator.waba_override(waba["id"])) is not None:
            found[waba["id"]] = uri
    for phone in fixture["phone_numbers"]:
        if (uri := emulator.phone_override(phone["id"])) is not None:
            found[phone["id"]] = uri
    return found


def changes(summary: dict) -> dict[str, int]:
    """An operation summary without the 'same' count, with plain string keys."""
    return {str(getattr(op, "value", op)): n for op, n in summary.items()
            if str(getattr(op, "value", op)) != "same" and n}


@pytest.fixture
def e2e_stack(engine, tmp_path, emulator, callback_receiver, pulumi_home) -> Iterator[E2EStack]:
    """A stack of the e2e program. Afterwards, whatever the test did, nothing its runs printed
    or exported may contain the access token or the verify token."""
    stack = E2EStack(tmp_path, emulator, pulumi_home, callback_receiver.verify_token)
    yield stack
    stack.export()
    stack.stack.workspace.remove_stack("test", force=True)
    assert stack.leaked(emulator.token, callback_receiver.verify_token) == []


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server of the session's own (Debian's package) on a free loopback port,
    stopped and deleted afterwards. Missing PostgreSQL is a failure, never a skip: bin/setup
    installs it."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        pytest.fail(
            "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): run bin/setup "
            "as root, which installs Debian's postgresql package, or apt-get install postgresql"
        )
    with PostgresServer(bin_dir) as server:
        yield server


@pytest.fixture
def postgres_backend(postgres_server: PostgresServer) -> str:
    """A `postgres://` backend URL for Pulumi's DIY backend: a fresh database of this test's
    own, with its own role and password."""
    return postgres_server.create_database(f"pulumi_{uuid.uuid4().hex[:12]}")


Runner = Callable[..., subprocess.CompletedProcess[str]]


def pulumi_in(engine: str, project: Path, tmp_path: Path) -> Runner:
    """`pulumi ARGS --non-interactive` in the project, as a user types it (for programs the
    Automation API does not run: YAML and TypeScript hosts), with a file backend and a home of
    this test's own (`pulumi login` writes the current backend there); a non-zero exit fails
    the test."""
    state = tmp_path / "state"
    state.mkdir()
    env = {key: value for key, value in os.environ.items()
           if key not in ("PULUMI_BACKEND_URL", "PULUMI_ACCESS_TOKEN")}
    env.update({
        "PULUMI_HOME": str(tmp_path / "home"),
        "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
    })

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([engine, *args, "--non-interactive"], cwd=project, env=env,
                              capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, (
            f"pulumi {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
        return done

    run("login", f"file://{state}")
    run.env = env  # type: ignore[attr-defined]
    return run


def init_two_app_stack(run: Runner, emulator: Any, callback_receiver: Any,
                       app_secret: str) -> dict[str, Any]:
    """`pulumi stack init dev` and the config of the Go and Java programs (tests/e2e/go_program,
    tests/e2e/java_program): the default provider's token, app secret and emulator, the second
    app's token (`otherToken`), the verify token and each callback URL (`support`, `vip`,
    `sales`, `app`, `other`); returns the second app's record, as the emulator holds it."""
    other_app: dict[str, Any] = next(app for app in emulator.admin.state()["apps"]
                                     if app["id"] != emulator.app_id)
    url = callback_receiver.url_for
    run("stack", "init", "dev", "--secrets-provider", "passphrase")
    for key, value, secret in [
        ("whatsapp:accessToken", emulator.token, True), ("whatsapp:appSecret", app_secret, True),
        ("whatsapp:graphUrl", emulator.url, False), ("whatsapp:allowHttpLoopback", "true", False),
        ("graphUrl", emulator.url, False), ("otherToken", other_app["access_tokens"][0], True),
        ("verifyToken", callback_receiver.verify_token, True),
        *[(f"{name}Url", url(name), False)
          for name in ("support", "vip", "sales", "app", "other")]]:
        run("config", "set", *(["--secret"] if secret else []), key, value)
    return other_app


def check_two_app_up(emulator: Any, calls: Any, url: Callable[[str], str],
                     other_app: dict[str, Any], *, waba: str, vip: str, sales: str) -> None:
    """After the first `up` of the Go and Java programs: the three rules and the app's
    subscription are what the emulator holds, and each app wrote with its own token (the
    second app only its subscription to `waba`)."""
    assert emulator.waba_override(waba) == url("support")
    assert emulator.phone_override(vip) == url("vip")
    assert emulator.phone_override(sales) == url("sales")
    subscription = emulator.admin.app_subscription(emulator.app_id)
    assert subscription["callback_url"] == url("app")
    assert sorted(f["name"] for f in subscription["fields"]) == ["account_update", "messages"]
    other_writes = [c for c in calls.writes() if c["app_id"] == other_app["id"]]
    assert [c["path"] for c in other_writes] == [f"/v23.0/{waba}/subscribed_apps"], calls.made()
    assert all(c["app_id"] == emulator.app_id for c in calls.writes() if c not in other_writes)
