"""The reference pages in docs/reference are generated from the plugin's schema and never
stale; they say what a user needs of each property."""

from pathlib import Path

from waba_webhooks.plugin import reference

DOCS = Path(__file__).resolve().parents[1] / "docs" / "reference"


def test_reference_pages_are_fresh():
    on_disk = {path.name: path.read_text(encoding="utf-8") for path in DOCS.glob("*.md")}
    assert on_disk == reference.pages(), (
        "docs/reference is stale: run `.venv/bin/python -m waba_webhooks.plugin.reference "
        "docs/reference`")


def test_a_resource_page_says_what_is_secret_replaces_and_defaults():
    page = reference.pages()["waba-routing.md"]
    assert "| `wabaId` | `waba_id` | string | required, replaces |" in page
    assert "| `verifyTokens` | `verify_tokens` | map of string | secret |" in page
    assert "default `keep`" in page
    assert "pulumi import whatsapp:index:WabaRouting" in page
    assert "pulumi-python:dynamic/waba-webhooks:WabaRouting" in page


def test_the_provider_page_lists_every_setting_with_its_environment_variable():
    page = reference.pages()["provider.md"]
    assert "| `accessToken` | `access_token` | string | secret |" in page
    assert "`WHATSAPP_WRITE_CONCURRENCY`" in page
