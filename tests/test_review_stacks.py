"""`waba-webhooks review` of several stacks (the shard stacks of one routing table): one report
for the whole table, from real `pulumi preview --json` output split across stacks, against the
seeded emulator over real HTTP."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from tests.conftest import run_cli
from tests.test_review import GOLDEN, client, rows  # noqa: F401 -- client is a fixture
from waba_webhooks.commands import review

WABA0 = "200000000000000"


def whole() -> dict[str, Any]:
    return json.loads((GOLDEN / "preview_waba_change.json").read_text())


def in_stack(doc: dict[str, Any], stack: str, keep) -> dict[str, Any]:
    """The steps of `doc` that `keep` accepts, as the preview of stack `stack` shows them."""
    text = json.dumps({**doc, "steps": [s for s in doc["steps"] if keep(s)]})
    return json.loads(text.replace("urn:pulumi:test::", f"urn:pulumi:{stack}::"))


def is_waba0(step: dict[str, Any]) -> bool:
    return step["urn"].endswith(f"waba-routing-{WABA0}")


def test_the_previews_of_two_stacks_make_the_report_of_the_whole_table(client):  # noqa: F811
    doc = whole()
    split = [in_stack(doc, "prod-1", is_waba0),
             in_stack(doc, "prod-2", lambda s: not is_waba0(s))]
    one = review.report_for(doc, client)
    both = review.report_for_stacks(split, client)
    assert both.startswith("## Webhook routing — stacks `prod-1, prod-2`\n\n"
                           "**9 phone numbers change route**")
    assert rows(both) == rows(one)
    assert "### Warnings" not in both


def moved(retained: bool) -> list[dict[str, Any]]:
    """WABA 0's `WabaRouting` leaving prod-1 and arriving in prod-2 with the same routing (what
    step 2 of a reshard previews), retained on delete or not."""
    doc = whole()
    routing = next(s for s in doc["steps"] if is_waba0(s))
    state = copy.deepcopy(routing["oldState"])  # what is live, as the seeded stack set it
    if retained:
        state["retainOnDelete"] = True
    leave = {**routing, "op": "delete", "oldState": state}
    leave.pop("newState", None)
    arrive = {**routing, "op": "create", "newState": copy.deepcopy(routing["oldState"])}
    arrive.pop("oldState", None)
    return [in_stack({**doc, "steps": [leave]}, "prod-1", lambda s: True),
            in_stack({**doc, "steps": [arrive]}, "prod-2", lambda s: True)]


def test_a_waba_moving_between_stacks_retained_on_delete_changes_no_route(client):  # noqa: F811
    report = review.report_for_stacks(moved(retained=True), client)
    assert "**No routing changes.**" in report
    assert "already set: taken over without a write" in report
    assert "retained on delete (no Graph call)" in report


def test_a_waba_moving_without_retain_shows_its_overrides_going(client):  # noqa: F811
    report = review.report_for_stacks(moved(retained=False), client)
    # The delete runs after the create adopted the same URLs: it clears them.
    assert "phone numbers change route" in report
    assert rows(report)["300000000000003"][3] == "`https://lucky-shrub.example/webhook`"


def test_a_waba_declared_by_two_stacks_is_a_warning(client):  # noqa: F811
    doc = whole()
    report = review.report_for_stacks([in_stack(doc, "prod-1", is_waba0),
                                       in_stack(doc, "prod-2", is_waba0)], client)
    assert f"WABA {WABA0} is declared by 2 stacks (prod-1, prod-2)" in report


def test_the_command_takes_several_files(client, emulator, tmp_path: Path):  # noqa: F811
    doc = whole()
    files = []
    for stack, keep in (("prod-1", is_waba0), ("prod-2", lambda s: not is_waba0(s))):
        path = tmp_path / f"{stack}.json"
        path.write_text(json.dumps(in_stack(doc, stack, keep)))
        files.append(str(path))
    done = run_cli(emulator, "review", *files)
    assert done.returncode == 0, done.stderr
    assert done.stdout == review.report_for_stacks(
        [json.loads(Path(f).read_text()) for f in files], client)
    done = run_cli(emulator, "review", files[0], str(tmp_path / "missing.json"))
    assert done.returncode == 2 and "missing.json" in done.stderr and done.stdout == ""
