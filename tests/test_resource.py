"""The program side: what declaring a resource costs and refuses, before any engine call."""

import asyncio
import subprocess
import sys

import pulumi
import pytest

from waba_webhooks.errors import ImportNotSupportedError
from waba_webhooks.rules.props import build_props


def test_declaring_resources_loads_no_http_stack():
    # Every `pulumi` run imports the package in the program process; the HTTP client, retry
    # and URL libraries belong to the provider process only.
    code = ("import sys, waba_webhooks; print(sorted(m for m in ('requests', 'tenacity', "
            "'rfc3986', 'waba_webhooks.graph') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout.strip()
    assert loaded == "[]"


def test_import_option_is_refused_with_the_way_to_adopt():
    with pytest.raises(ImportNotSupportedError) as caught:
        build_props(None, pulumi.ResourceOptions(import_="123"), {"waba_id": "123"})
    assert "pulumi/pulumi#16175" in str(caught.value)
    assert "adopt_existing=True" in str(caught.value)


def test_verify_token_is_a_secret_input_and_output():
    # Outputs need a current event loop, as in a Pulumi program (an earlier test's
    # asyncio.run() may have left none).
    asyncio.set_event_loop(asyncio.new_event_loop())
    props, opts = build_props(None, None, {"verify_token": "t", "callback_uri": None},
                              outputs=("app_id",))
    assert isinstance(props["verify_token"], pulumi.Output)
    assert "callback_uri" not in props and props["app_id"] is None
    assert opts.additional_secret_outputs == ["verify_token"]


def test_every_verify_token_input_is_a_secret_input_and_output():
    asyncio.set_event_loop(asyncio.new_event_loop())
    props, opts = build_props(None, None, {"verify_token": "t", "verify_tokens": {"1": "u"}},
                              secrets=("verify_token", "verify_tokens"))
    assert all(isinstance(props[name], pulumi.Output) for name in ("verify_token", "verify_tokens"))
    assert opts.additional_secret_outputs == ["verify_token", "verify_tokens"]
