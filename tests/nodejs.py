"""The Node.js side of the tests: the npm packages the TypeScript checks install (pinned), npm
itself, and building the generated SDK (sdk/nodejs) into a tarball that a program installs.

Node.js and npm are the machine's (the polyglot machine has them); the packages come from the npm
registry, with npm's own cache. A missing `node` or `npm` is a failure, never a skip. No lock file
is written or checked in: the direct dependencies are pinned here, the rest is what npm resolves.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
#: The generated Node.js SDK, checked in (tools/gen-sdk writes it).
SDK_DIR = REPO / "sdk" / "nodejs"
GEN_SDK = REPO / "tools" / "gen-sdk"
#: Compiles and packs an SDK as bin/release does.
PACK_SDK = REPO / "tools" / "pack-sdk"
#: The generated SDK's npm name (the schema's language.nodejs.packageName).
SDK_PACKAGE = "@waba-webhooks/whatsapp"

#: The versions of the npm packages the checks install: the newest Node.js SDK on the npm
#: registry (3.276.0; the test engine is v3.277.0, which has no npm release; the newest end of
#: the generated SDK's range, see sdk_range()), the TypeScript the SDK asks for (@pulumi/pulumi
#: accepts TypeScript below 7), ts-node, through which @pulumi/pulumi runs a .ts program, and
#: Node's types.
PULUMI_NODEJS = "3.276.0"
TYPESCRIPT = "5.9.3"
TS_NODE = "10.9.2"
NODE_TYPES = "20.19.43"
#: The Node.js majors the TypeScript checks run on besides the machine's own (`node` on PATH):
#: those @pulumi/pulumi supports over the SDK's range (its `engines`: Node >= 22) that are
#: long-term-support releases. Each comes from the npm registry's `node` package (a Node.js
#: binary for this platform), installed into the test's own folder.
NODE_MAJORS = ("22", "24", "26")


def sdk_range() -> str:
    """The @pulumi/pulumi range the generated SDK declares (its package.json, which the generator
    writes: the oldest SDK that has what the generated code calls, up to the next major)."""
    package = json.loads((SDK_DIR / "package.json").read_text())
    return str(package["dependencies"]["@pulumi/pulumi"])


def oldest_pulumi() -> str:
    """The oldest @pulumi/pulumi of the SDK's range: the floor of its ``^X.Y.Z``."""
    declared = sdk_range()
    assert re.fullmatch(r"\^3\.\d+\.\d+", declared), f"not a ^3.Y.Z range: {declared}"
    return declared[1:]


def npm_packages() -> dict[str, str]:
    return {
        "@pulumi/pulumi": PULUMI_NODEJS,
        "typescript": TYPESCRIPT,
        "ts-node": TS_NODE,
        "@types/node": NODE_TYPES,
    }


def require_tool(name: str) -> str:
    """The executable `name` on PATH; missing is a failure."""
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not on PATH: the TypeScript checks need Node.js and npm "
                    "(the machine's; Debian's nodejs package or Node.js >= 20)")
    return found


def run(args: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run a command to completion; a non-zero exit fails the test with its output."""
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          check=False)
    assert done.returncode == 0, (
        f"{' '.join(args)} (in {cwd}) exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done


def npm_install(project: Path) -> None:
    """`npm install` of project/package.json, writing no lock file."""
    run([require_tool("npm"), "install", "--no-package-lock", "--no-audit", "--no-fund",
         "--loglevel=error"], project)


def depend_on_sdk(project: Path, tarball: Path) -> None:
    """Make the TypeScript `project` depend on the packed SDK `tarball` and the pinned
    @pulumi/pulumi and TypeScript tooling, install it, and check it with `tsc --strict`."""
    pins = npm_packages()
    package = json.loads((project / "package.json").read_text())
    package["dependencies"] = {"@pulumi/pulumi": pins["@pulumi/pulumi"],
                               SDK_PACKAGE: f"file:{tarball}"}
    package["devDependencies"] = {name: pins[name]
                                  for name in ("typescript", "ts-node", "@types/node")}
    (project / "package.json").write_text(json.dumps(package, indent=2))
    npm_install(project)
    run([require_tool("npx"), "--no-install", "tsc", "--noEmit", "--strict"], project)


def build_sdk(work: Path, pulumi: str | None = PULUMI_NODEJS) -> Path:
    """Copy sdk/nodejs into ``work/sdk``, install its dependencies, check it with
    ``tsc --noEmit --strict``, compile it, and pack the compiled package as bin/release does
    (tools/pack-sdk). With `pulumi` a version, that @pulumi/pulumi and the pinned TypeScript and
    Node types are installed; with None, npm resolves the SDK's own ranges by itself (what a
    user's npm does). The packed package.json keeps the SDK's ranges either way. Returns the
    tarball (in ``work``)."""
    require_tool("node")
    sdk = work / "sdk"
    shutil.copytree(SDK_DIR, sdk, ignore=shutil.ignore_patterns("node_modules", "bin"))
    if pulumi is None:
        npm_install(sdk)
    else:
        pins = {**npm_packages(), "@pulumi/pulumi": pulumi}
        declared = json.loads((sdk / "package.json").read_text())
        wanted = {**declared.get("dependencies", {}), **declared.get("devDependencies", {})}
        run([require_tool("npm"), "install", "--no-save", "--no-package-lock", "--no-audit",
             "--no-fund", "--loglevel=error",
             *(f"{name}@{pins[name]}" for name in sorted(wanted) if name in pins)], sdk)
    packed = run([str(PACK_SDK), str(sdk), str(work)], REPO)
    tarball = Path(packed.stdout.strip().splitlines()[-1])
    assert tarball.is_file(), packed.stdout
    return tarball


def installed_version(project: Path, package: str) -> str:
    """The version of `package` that npm installed in project/node_modules."""
    return str(json.loads((project / "node_modules" / package / "package.json").read_text())
               ["version"])


def install_node(major: str, work: Path) -> Path:
    """Node.js `major` from the npm registry's `node` package, installed into ``work``; returns
    its bin directory (node, and npm/npx from the machine's npm are not needed there: the
    programs run with `node` from PATH)."""
    run([require_tool("npm"), "install", "--no-save", "--no-package-lock", "--no-audit",
         "--no-fund", "--loglevel=error", f"node@{major}"], work)
    bin_dir = work / "node_modules" / ".bin"
    version = run([str(bin_dir / "node"), "--version"], work).stdout.strip()
    assert version.startswith(f"v{major}."), version
    return bin_dir
