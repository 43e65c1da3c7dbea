"""The Java SDK of the `whatsapp` package, sdk/java: generated from the plugin's schema by
tools/gen-sdk (waba-gensdk-java, tools/engine/java/gensdk: upstream's pulumi-java codegen and a
pom.xml), checked in, and a Maven project that compiles against com.pulumi:pulumi and installs
into Maven's local repository.

The first test needs the test engine's bin directory (tools/install-engine, which bin/test runs);
the second needs Maven and Maven Central or the local repository. Missing any is a failure, never
a skip.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

from tests.java import COORDINATE, EXAMPLE_DIR, SDK_DIR, doc_sources
from tests.nodejs import GEN_SDK, run
from tests.test_go_sdk import tree
from waba_webhooks import __version__
from waba_webhooks.plugin import schema

POM = "{http://maven.apache.org/POM/4.0.0}"
CLASSES = ("WabaCallbackOverride", "PhoneCallbackOverride", "WabaRouting",
           "AppWebhookSubscription", "Provider")


def coordinate(element: ET.Element) -> str:
    """groupId:artifactId:version of a pom.xml's project or of one of its dependencies."""
    return ":".join(element.findtext(f"{POM}{name}") or "" for name in
                    ("groupId", "artifactId", "version"))


def test_sdk_java_is_what_the_generator_writes_from_the_schema(tmp_path: Path):
    """sdk/java is exactly what tools/gen-sdk writes from schema.json today, pom.xml included: a
    schema change (or a generator or pulumi-java upgrade) without a regenerated SDK fails here."""
    fresh = tmp_path / "java"
    run([str(GEN_SDK), "java", str(fresh)], tmp_path)
    want = tree(fresh)
    have = {name: content for name, content in tree(SDK_DIR).items()
            if not name.startswith("target/")}  # a local `mvn install` in sdk/java leaves it
    stale = sorted(name for name in want.keys() | have.keys() if want.get(name) != have.get(name))
    assert not stale, (f"sdk/java is stale ({', '.join(stale)}): run tools/gen-sdk java "
                       "(after .venv/bin/python -m waba_webhooks.plugin.schema > "
                       "provider/waba_webhooks/plugin/schema.json if the resources changed)")


def test_sdk_java_compiles_and_installs(java_sdk: Path):
    """`mvn install` of sdk/java passes (the session's java_sdk), the docs' Java examples
    compiling with it: its jar holds every resource and the provider in com.wabawebhooks.whatsapp,
    and the plugin.json that tells the engine which plugin its programs need; the coordinate is
    the package's version, which the example depends on."""
    assert coordinate(ET.parse(SDK_DIR / "pom.xml").getroot()) == COORDINATE
    example = ET.parse(EXAMPLE_DIR / "pom.xml").getroot()
    assert COORDINATE in [coordinate(d) for d in example.iter(f"{POM}dependency")], (
        "examples/java/pom.xml names another version of the SDK")
    package = f"{schema.JAVA_BASE_PACKAGE}.whatsapp".replace(".", "/")
    with zipfile.ZipFile(java_sdk) as jar:
        names = set(jar.namelist())
        assert {f"{package}/{name}.class" for name in CLASSES} <= names
        assert json.loads(jar.read(f"{package}/plugin.json")) == {
            "resource": True, "name": "whatsapp", "version": __version__,
            "server": schema.DOWNLOAD_URL}
        assert jar.read(f"{package}/version.txt").decode() == __version__
    # The docs' Java, compiled as the build's test sources: each resource page's example and
    # reference constructor, and installation.md's program.
    compiled = set(doc_sources())
    for page in ("waba_callback_override", "phone_callback_override", "waba_routing",
                 "app_webhook_subscription", "index"):
        assert f"docs/docs_resources_{page}_0.java" in compiled
    assert "routing/App.java" in compiled
    assert {f"reference/{name}Constructor.java" for name in CLASSES[:-1]} <= compiled
    installed = (Path.home() / ".m2" / "repository" / Path(*schema.JAVA_BASE_PACKAGE.split("."))
                 / "whatsapp" / __version__ / f"whatsapp-{__version__}.jar")
    # The coordinate resolves to this SDK's classes (examples/java's README installs the same
    # sources again, so the jar's file may be another build of them, its timestamps apart).
    with zipfile.ZipFile(installed) as got, zipfile.ZipFile(java_sdk) as built:
        classes = sorted(n for n in built.namelist() if not n.startswith("META-INF/"))
        assert sorted(n for n in got.namelist() if not n.startswith("META-INF/")) == classes
        assert all(got.read(name) == built.read(name) for name in classes)
