"""Provider settings: stack config first, environment second, clear errors."""

from pathlib import Path

import pytest

from waba_webhooks import config
from waba_webhooks.errors import ConfigurationError
from waba_webhooks.plugin import schema


def test_defaults():
    settings = config.load({}, environ={})
    assert settings.api_version == "v23.0"
    assert settings.graph_url == "https://graph.facebook.com"
    assert settings.access_token is None and settings.app_id is None
    assert settings.allow_http_loopback is False
    assert settings.budget_pacing_percent == 80
    assert settings.write_concurrency == 8 and settings.batch_reads is True


def test_waba_routing_settings_from_config_and_environment():
    settings = config.load({"whatsapp:writeConcurrency": "16"},
                           environ={"WHATSAPP_BATCH_READS": "false"})
    assert settings.write_concurrency == 16 and settings.batch_reads is False


def test_stack_config_wins_over_environment():
    settings = config.load(
        {
            "whatsapp:accessToken": "from-config",
            "whatsapp:appId": "123",
            "whatsapp:apiVersion": "v22.0",
            "whatsapp:graphUrl": "http://127.0.0.1:9/",
            "whatsapp:allowHttpLoopback": "true",
            "whatsapp:maxRetries": "2",
            "whatsapp:budgetPacingPercent": "90",
        },
        environ={"WHATSAPP_ACCESS_TOKEN": "from-env", "WHATSAPP_APP_ID": "999",
                 "WHATSAPP_BUDGET_PACING_PERCENT": "50"},
    )
    assert settings.access_token == "from-config"
    assert settings.app_id == "123"
    assert settings.api_version == "v22.0"
    assert settings.graph_url == "http://127.0.0.1:9"
    assert settings.allow_http_loopback is True
    assert settings.max_retries == 2
    assert settings.budget_pacing_percent == 90


def test_environment_fallbacks():
    settings = config.load(
        {},
        environ={
            "WHATSAPP_ACCESS_TOKEN": "tok",
            "WHATSAPP_APP_ID": "77",
            "WHATSAPP_API_VERSION": "v21.0",
            "WHATSAPP_GRAPH_URL": "https://graph.example.com",
            "WHATSAPP_BUDGET_PACING_PERCENT": "100",
        },
    )
    assert settings.budget_pacing_percent == 100
    assert (settings.access_token, settings.app_id, settings.api_version, settings.graph_url) == (
        "tok",
        "77",
        "v21.0",
        "https://graph.example.com",
    )


def test_app_id_that_became_a_float_is_restored():
    assert config.load({"whatsapp:appId": 670843887433847.0}, environ={}).app_id == (
        "670843887433847"
    )


def test_token_never_in_repr():
    settings = config.load({"whatsapp:accessToken": "SECRET-TOKEN-123"}, environ={})
    assert "SECRET-TOKEN-123" not in repr(settings)


def test_missing_token_names_both_ways_to_set_it():
    with pytest.raises(ConfigurationError) as caught:
        config.load({}, environ={}).require_token()
    assert "whatsapp:accessToken" in str(caught.value)
    assert "WHATSAPP_ACCESS_TOKEN" in str(caught.value)


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("whatsapp:apiVersion", "23", "whatsapp:apiVersion"),
        ("whatsapp:appId", "abc", "whatsapp:appId"),
        ("whatsapp:graphUrl", "http://graph.example.com", "loopback"),
        ("whatsapp:graphUrl", "not a url", "whatsapp:graphUrl"),
        ("whatsapp:allowHttpLoopback", "maybe", "true or false"),
        ("whatsapp:maxRetries", "many", "number"),
        ("whatsapp:budgetPacingPercent", "120", "between 0 and 100"),
        ("whatsapp:budgetPacingPercent", "-1", "whatsapp:budgetPacingPercent"),
        ("whatsapp:writeConcurrency", "0", "whatsapp:writeConcurrency"),
        ("whatsapp:batchReads", "sometimes", "true or false"),
    ],
)
def test_bad_settings_name_the_key(key, value, words):
    with pytest.raises(ConfigurationError) as caught:
        config.load({key: value}, environ={})
    assert words in str(caught.value)


def test_app_secret_from_config_or_environment_and_never_in_repr():
    from_config = config.load({"whatsapp:appSecret": "APPSECRET-cfg"},
                              environ={"WHATSAPP_APP_SECRET": "APPSECRET-env"})
    assert from_config.app_secret == "APPSECRET-cfg"
    from_env = config.load({}, environ={"WHATSAPP_APP_SECRET": "APPSECRET-env"})
    assert from_env.require_app_secret() == "APPSECRET-env"
    assert "APPSECRET" not in repr(from_config) and "APPSECRET" not in repr(from_env)


def test_missing_app_secret_names_both_ways_to_set_it():
    with pytest.raises(ConfigurationError) as caught:
        config.load({}, environ={}).require_app_secret()
    assert "whatsapp:appSecret" in str(caught.value)
    assert "WHATSAPP_APP_SECRET" in str(caught.value)


# ---- the environment fallback in the schema and the generated SDK ------------------------------

SDK_PROVIDER = Path(__file__).resolve().parents[1] / "sdk" / "nodejs" / "provider.ts"


def test_schema_names_each_settings_variable_where_sdks_read_it():
    """Pulumi's convention, `defaultInfo.environment`, for every setting but the secrets (an
    SDK would send those as plain inputs, recorded in state); the plugin reads theirs."""
    provider = schema.schema()["provider"]["inputProperties"]
    variables = schema.schema()["config"]["variables"]
    for name, (key, env) in config.KEYS.items():
        for spec in (provider[key], variables[key]):
            # No `default`: an SDK would send it (and Node.js's `getEnvNumber(...) || 5` would
            # turn a variable's 0 into 5); the plugin applies the defaults.
            assert "default" not in spec
            if name in config.SECRET_SETTINGS:
                assert "defaultInfo" not in spec and spec["secret"] is True
            else:
                assert spec["defaultInfo"] == {"environment": [env]}
            assert f"`{env}`" in spec["description"]


def test_generated_typescript_provider_reads_the_environment_before_the_default():
    """A `new whatsapp.Provider(...)` without a setting sends the variable's value, else the
    default; it never reads a secret's variable."""
    lines = {line.split('"')[1]: line for line in SDK_PROVIDER.read_text().splitlines()
             if 'resourceInputs["' in line}
    for name, (key, env) in config.KEYS.items():
        if name in config.SECRET_SETTINGS:
            assert "getEnv" not in lines[key], lines[key]
        else:
            assert f'("{env}")' in lines[key] and "utilities.getEnv" in lines[key], lines[key]
            assert "||" not in lines[key], lines[key]  # no default in the program
