"""The Node.js side of the tests: the npm packages the TypeScript checks install (pinned), npm
itself, and building the generated SDK (sdk/nodejs) into a tarball that a program installs.

Node.js and npm are the machine's (the polyglot machine has them); the packages come from the npm
registry, with npm's own cache. A missing `node` or `npm` is a failure, never a skip. No lock file
is written or checked in: the direct dependencies are pinned here, the rest is what npm resolves.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
#: The generated Node.js SDK, checked in (tools/gen-sdk writes it).
SDK_DIR = REPO / "sdk" / "nodejs"
GEN_SDK = REPO / "tools" / "gen-sdk"
#: The generated SDK's npm name (the schema's language.nodejs.packageName).
SDK_PACKAGE = "@waba-webhooks/whatsapp"

#: The versions of the npm packages the checks install: the newest Node.js SDK on the npm
#: registry (3.276.0; the test engine is v3.277.0, which has no npm release; inside the generated
#: SDK's range, ^3.200.0), the TypeScript the SDK asks for (@pulumi/pulumi accepts TypeScript
#: below 7), ts-node, through which @pulumi/pulumi runs a .ts program, and Node's types.
PULUMI_NODEJS = "3.276.0"
TYPESCRIPT = "5.9.3"
TS_NODE = "10.9.2"
NODE_TYPES = "20.19.43"


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


def build_sdk(work: Path) -> Path:
    """Copy sdk/nodejs into ``work/sdk``, install its dependencies at the pinned versions, check
    it with ``tsc --noEmit --strict``, compile it, and pack the compiled package as Pulumi's
    providers publish theirs (``bin/`` with the package.json, README and LICENSE at its root).
    Returns the tarball (in ``work``)."""
    require_tool("node")
    sdk = work / "sdk"
    shutil.copytree(SDK_DIR, sdk, ignore=shutil.ignore_patterns("node_modules", "bin"))
    package = json.loads((sdk / "package.json").read_text())
    pins = npm_packages()
    for section in ("dependencies", "devDependencies"):
        for name in package.get(section, {}):
            if name in pins:
                package[section][name] = pins[name]
    (sdk / "package.json").write_text(json.dumps(package, indent=4) + "\n")
    npm_install(sdk)
    npx = require_tool("npx")
    run([npx, "--no-install", "tsc", "--noEmit", "--strict"], sdk)
    run([npx, "--no-install", "tsc"], sdk)  # to bin/, as tsconfig.json says
    # The published package.json keeps the SDK's ranges, not the pins of this build; the
    # package carries the project's LICENSE (the generator writes none).
    for name in ("package.json", "README.md"):
        shutil.copy(SDK_DIR / name, sdk / "bin" / name)
    shutil.copy(REPO / "LICENSE", sdk / "bin" / "LICENSE")
    packed = run([require_tool("npm"), "pack", "--pack-destination", str(work),
                  "--loglevel=error"], sdk / "bin")
    tarball = work / packed.stdout.strip().splitlines()[-1]
    assert tarball.is_file(), packed.stdout
    return tarball
