"""The test engine runs Pulumi YAML programs: tools/install-engine puts upstream's
`pulumi-language-yaml` (tools/engine/yaml) beside the `pulumi` CLI, and a `runtime: yaml` program
goes through `pulumi up` on a file backend like any other.

The program declares no resource (so no provider plugin is needed): it reads a config value,
builds variables with a builtin function and exports them, which takes the engine, the host's
template evaluation and the stack outputs end to end. Like every e2e test, a missing CLI or host
is a failure, never a skip: bin/test installs both.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.e2e.conftest import pulumi_in

YAML_HOST = "pulumi-language-yaml"

PROGRAM = """\
name: yaml-host
runtime: yaml
description: variables and outputs only, no resources
config:
  who:
    type: string
variables:
  parts:
    - waba
    - webhooks
  joined:
    fn::join:
      - "-"
      - ${parts}
outputs:
  joined: ${joined}
  greeting: hello ${who}
  stack: ${pulumi.stack}
  project: ${pulumi.project}
"""


def yaml_host_beside(cli: str) -> Path:
    """The YAML language host next to the CLI's resolved executable, where the CLI looks for its
    bundled plugins (and where tools/install-engine puts it)."""
    host = Path(os.path.realpath(cli)).with_name(YAML_HOST)
    if not os.access(host, os.X_OK):
        pytest.fail(f"no {YAML_HOST} beside the pulumi CLI ({host}): run the tests with bin/test, "
                    "whose tools/install-engine builds it (tools/engine/yaml)")
    return host


def test_yaml_program_runs_and_exports_its_outputs(engine: str, tmp_path: Path):
    """`pulumi stack init` then `pulumi up --yes` of a `runtime: yaml` program succeed, the
    stack's outputs are the values the template computes, and the stack is destroyed and
    removed cleanly; the host exits with each run (the per-test reaping check)."""
    yaml_host_beside(engine)
    project = tmp_path / "project"
    project.mkdir()
    (project / "Pulumi.yaml").write_text(PROGRAM)
    run = pulumi_in(engine, project, tmp_path)
    run("stack", "init", "dev", "--secrets-provider", "passphrase")
    run("config", "set", "who", "yaml")
    up = run("up", "--yes", "--color", "never")  # a preview, then the update
    assert "pulumi:pulumi:Stack" in up.stdout, up.stdout
    outputs = json.loads(run("stack", "output", "--json").stdout)
    assert outputs == {
        "joined": "waba-webhooks",
        "greeting": "hello yaml",
        "stack": "dev",
        "project": "yaml-host",
    }
    run("destroy", "--yes")
    run("stack", "rm", "dev", "--yes")
