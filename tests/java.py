"""The Java side of the tests: the generated Java SDK (sdk/java, a Maven project), the `mvn`
command, and Java programs that depend on the SDK by its Maven coordinate.

Maven and Java are the machine's. Artifacts come from Maven's local repository (~/.m2, which CI
keeps between runs) or Maven Central, never from anywhere else. The SDK is built and installed
into the local repository once per session (``java_sdk`` in tests/conftest.py, one ``mvn
install`` of a copy of sdk/java, so the checkout gets no target/): the SDK's test, the Java e2e
program and examples/java then depend on it as ``com.wabawebhooks:whatsapp:<version>``, as an
infra repo does after the same ``mvn install``. Pulumi's Java language host builds and runs a
program with ``mvn compile exec:java``, two Maven runs per ``pulumi`` operation (the plugins the
program needs, then the program).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from waba_webhooks import __version__
from waba_webhooks.plugin import constructors, schema
from waba_webhooks.plugin.schema import JAVA_BASE_PACKAGE
from waba_webhooks.rules.kind import PACKAGE

REPO = Path(__file__).resolve().parents[1]
#: The generated Java SDK, checked in (tools/gen-sdk writes it).
SDK_DIR = REPO / "sdk" / "java"
#: The Java example, whose pom.xml every Java program of the tests starts from.
EXAMPLE_DIR = REPO / "examples" / "java"
#: The SDK's Maven coordinate (groupId:artifactId:version).
COORDINATE = f"{JAVA_BASE_PACKAGE}:{PACKAGE}:{__version__}"
#: Maven's JVM options for a short build: no optimizing compiler, which costs more time than it
#: saves in a Maven run of seconds (examples/java/.mvn/jvm.config has the same).
JVM_OPTIONS = "-XX:TieredStopAtLevel=1"
#: Where a program's main class is, as examples/java lays it out.
MAIN_SOURCE = Path("src/main/java/routing/App.java")


def require_mvn() -> str:
    """`mvn` on PATH; missing is a failure, never a skip."""
    found = shutil.which("mvn")
    if found is None:
        pytest.fail("mvn is not on PATH: the Java checks need Maven (and Java 11 or later)")
    return found


def mvn(args: list[str], cwd: Path, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """`mvn ARGS` in cwd, in batch mode with no download progress, to completion; a non-zero exit
    fails the test with Maven's output."""
    command = [require_mvn(), "--batch-mode", "--no-transfer-progress", *args]
    env = {**os.environ, "MAVEN_OPTS": JVM_OPTIONS}
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)
    assert done.returncode == 0, (
        f"mvn {' '.join(args)} (in {cwd}) exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done


def install_sdk(work: Path) -> Path:
    """sdk/java copied into `work`, compiled, packed and installed into Maven's local repository
    (one `mvn install`); the jar it built. The reference pages' Java constructors
    and the docs' Java examples are compiled with it, as test sources (`doc_sources`), which the
    jar leaves out: an example the SDK does not compile fails the build."""
    sdk = work / "sdk"
    shutil.copytree(SDK_DIR, sdk, ignore=shutil.ignore_patterns("target"))
    for name, source in doc_sources().items():
        path = sdk / "src" / "test" / "java" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    mvn(["--quiet", "install"], sdk)
    return sdk / "target" / f"{PACKAGE}-{__version__}.jar"


def doc_sources() -> dict[str, str]:
    """Path under src/test/java -> a Java compilation unit: each reference page's constructor
    and function call (docs/reference), and each Java block of the hand-written docs
    (README.md, docs/), a block of statements run inside a method given `ctx` (as in
    `Pulumi.run(ctx -> ...)`), its leading `import` lines kept, or a whole class."""
    sources = {}
    for token, spec in schema.schema()["resources"].items():
        name = token.rsplit(":", 1)[-1]
        variable = name[0].lower() + name[1:]
        code = constructors.constructors(token, spec)["java"]
        sources[f"reference/{name}Constructor.java"] = _wrap(
            "reference", f"{name}Constructor", code + f"return {variable};\n")
    for token, spec in schema.schema()["functions"].items():
        name = token.rsplit(":", 1)[-1]
        code = constructors.calls(token, spec)["java"]
        variable = code.split("var ", 1)[1].split(" ", 1)[0]
        sources[f"reference/{name[0].upper() + name[1:]}Call.java"] = _wrap(
            "reference", f"{name[0].upper() + name[1:]}Call", code + f"return {variable};\n")
    pages = [REPO / "README.md", *sorted(page for page in (REPO / "docs").rglob("*.md")
                                         if "reference" not in page.parts)]
    for page in pages:
        for index, block in enumerate(JAVA_BLOCK.findall(page.read_text())):
            whole = re.search(r"^package ([\w.]+);.*^public class (\w+)", block,
                              flags=re.MULTILINE | re.DOTALL)
            if whole:
                path = f"{whole.group(1).replace('.', '/')}/{whole.group(2)}.java"
                sources[path] = block
            else:
                name = re.sub(r"\W", "_", page.relative_to(REPO).with_suffix("").as_posix())
                sources[f"docs/{name}_{index}.java"] = _wrap(
                    "docs", f"{name}_{index}", block + "return null;\n")
    return sources


#: A fenced Java block of a Markdown page.
JAVA_BLOCK = re.compile(r"^```java\n(.*?)^```", flags=re.MULTILINE | re.DOTALL)


def _wrap(package: str, name: str, code: str) -> str:
    """A class `name` whose method `declare(ctx)` runs `code`'s statements, its leading import
    lines moved to the top."""
    lines = code.splitlines()
    imports = [line for line in lines if line.startswith("import ")]
    body = [line for line in lines if not line.startswith("import ")]
    return "\n".join([f"package {package};", "", "import com.pulumi.Context;", *imports, "",
                      f"class {name} {{", "    static Object declare(Context ctx) {", *body,
                      "    }", "}", ""])


def java_program(target: Path, source: str | None = None) -> Path:
    """A Java program's Maven project in `target`: examples/java's pom.xml (the SDK by its
    coordinate), Maven's JVM options and Pulumi.yaml, with `source` as its main class (default:
    the example's)."""
    target.mkdir(parents=True, exist_ok=True)
    for name in ("pom.xml", "Pulumi.yaml", ".mvn/jvm.config"):
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(EXAMPLE_DIR / name, target / name)
    main = target / MAIN_SOURCE
    main.parent.mkdir(parents=True)
    main.write_text(source if source is not None else (EXAMPLE_DIR / MAIN_SOURCE).read_text())
    return target
