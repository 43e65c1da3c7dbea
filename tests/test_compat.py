"""Old module paths (`waba_webhooks._compat`): what existing stacks' state names still loads."""

import importlib
import pickle
import subprocess
import sys

import pytest

import waba_webhooks
from waba_webhooks import _compat


@pytest.mark.parametrize(("old", "new"), sorted(_compat.MOVED.items()))
def test_every_old_module_path_is_the_module_that_holds_the_code_now(old, new):
    assert importlib.import_module(old) is importlib.import_module(new)


#: What states made by earlier releases pickle: each provider by module path and class name
#: (before the grouping into resources/; then in resources/, named ``...Provider``), and the
#: class that holds its rules now.
PICKLED = [
    ("waba_webhooks.phone", "PhoneCallbackOverrideProvider", "PhoneCallbackOverrideRules"),
    ("waba_webhooks.waba", "WabaCallbackOverrideProvider", "WabaCallbackOverrideRules"),
    ("waba_webhooks.waba_routing", "WabaRoutingProvider", "WabaRoutingRules"),
    ("waba_webhooks.resources.phone", "PhoneCallbackOverrideProvider",
     "PhoneCallbackOverrideRules"),
    ("waba_webhooks.resources.waba", "WabaCallbackOverrideProvider", "WabaCallbackOverrideRules"),
    ("waba_webhooks.resources.waba_routing", "WabaRoutingProvider", "WabaRoutingRules"),
    ("waba_webhooks.resources.app_subscription", "AppWebhookSubscriptionProvider",
     "AppWebhookSubscriptionRules"),
]


@pytest.mark.parametrize(("module", "name", "now"), PICKLED)
def test_a_provider_pickled_by_an_earlier_release_unpickles_in_a_fresh_process(module, name, now):
    # What the state of a stack made by that release holds: a reference by the old path.
    code = ("import pickle, sys; cls = pickle.loads(sys.stdin.buffer.read()); "
            "print(cls.__module__, cls.__qualname__)")
    done = subprocess.run(
        [sys.executable, "-c", code], input=_reference(module, name), capture_output=True,
        check=True, timeout=60,
    )
    where = module if module.startswith("waba_webhooks.resources.") else module.replace(
        "waba_webhooks.", "waba_webhooks.resources.")
    assert done.stdout.decode().split() == [where, now]
    # The class loaded is the one that holds the rules now, and pickling it again names it so.
    rules = pickle.loads(_reference(module, name))
    assert rules is getattr(importlib.import_module(where), now)
    assert pickle.loads(pickle.dumps(rules, protocol=4)) is rules


@pytest.mark.parametrize(
    "name",
    ["Route", "NumberRoute", "OverrideChange", "Report", "Target", "build", "render",
     "report_for", "configure_parser", "run"],
)
def test_what_the_old_review_module_offered_is_still_there(name):
    # The review command was split (commands/report.py builds, commands/render.py writes); the
    # names earlier releases had in waba_webhooks.review stay where programs imported them from.
    old = importlib.import_module("waba_webhooks.review")
    assert hasattr(old, name)


def test_the_public_api_is_unchanged():
    for name in ("WabaCallbackOverride", "PhoneCallbackOverride", "WabaRouting", "GraphError"):
        assert name in waba_webhooks.__all__


def _reference(module: str, name: str) -> bytes:
    """A protocol-4 pickle of a class by reference, as written by the earlier release."""
    head = module.encode()
    tail = name.encode()
    return (
        b"\x80\x04\x8c" + bytes([len(head)]) + head + b"\x94\x8c" + bytes([len(tail)]) + tail
        + b"\x94\x93\x94."
    )
