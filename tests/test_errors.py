"""The error hierarchy: chosen by Meta's code, fields kept, messages safe to print."""

import pickle

import pytest

from waba_webhooks import errors


def envelope(**fields):
    return {
        "error": {"message": "boom", "type": "OAuthException", "fbtrace_id": "AbC123", **fields}
    }


@pytest.mark.parametrize(
    ("fields", "status", "cls"),
    [
        ({"code": 190}, 401, errors.InvalidTokenError),
        ({"code": 10}, 403, errors.PermissionDeniedError),
        ({"code": 200}, 403, errors.PermissionDeniedError),
        ({"code": 294}, 403, errors.PermissionDeniedError),
        ({"code": 100}, 400, errors.InvalidParameterError),
        ({"code": 100, "error_subcode": 33}, 400, errors.NotFoundError),
        ({"code": 100, "error_subcode": 2200}, 400, errors.CallbackVerificationError),
        ({"code": 2200}, 400, errors.CallbackVerificationError),
        ({"code": 803}, 404, errors.NotFoundError),
        ({"code": 4}, 400, errors.RateLimitError),
        ({"code": 80007}, 400, errors.RateLimitError),
        ({"code": 130429}, 400, errors.RateLimitError),
        ({"code": 613}, 400, errors.RateLimitError),
        ({"code": 1}, 500, errors.TransientError),
        ({"code": 2}, 503, errors.TransientError),
        ({"code": 9999, "is_transient": True}, 400, errors.TransientError),
        ({"code": 9999}, 500, errors.TransientError),
        ({"code": 9999}, 400, errors.GraphError),
    ],
)
def test_class_chosen_by_code(fields, status, cls):
    error = errors.from_envelope(envelope(**fields), status)
    assert type(error) is cls
    assert error.code == fields["code"]
    assert error.fbtrace_id == "AbC123"
    assert error.http_status == status


def test_only_throttling_and_transient_failures_are_retryable():
    assert issubclass(errors.RateLimitError, errors.RetryableError)
    assert issubclass(errors.TransientError, errors.RetryableError)
    assert issubclass(errors.GraphConnectionError, errors.RetryableError)
    for cls in (
        errors.InvalidTokenError,
        errors.PermissionDeniedError,
        errors.InvalidParameterError,
        errors.NotFoundError,
    ):
        assert not issubclass(cls, errors.RetryableError)


def test_message_carries_meta_fields_and_a_hint():
    error = errors.from_envelope(
        envelope(code=190, error_subcode=463, error_user_msg="Session expired"),
        401,
        method="GET",
        path="/v23.0/123/subscribed_apps",
    )
    text = str(error)
    for part in (
        "boom",
        "Session expired",
        "GET /v23.0/123/subscribed_apps",
        "HTTP 401",
        "code 190",
        "subcode 463",
        "fbtrace_id AbC123",
        "whatsapp:accessToken",
    ):
        assert part in text


@pytest.mark.parametrize("body", [None, "text", [], {"error": "string"}, {"nope": 1}])
def test_odd_bodies_still_give_a_typed_error(body):
    error = errors.from_envelope(body, 502)
    assert isinstance(error, errors.TransientError)
    assert "HTTP 502" in str(error)


def test_errors_survive_pickling_with_their_fields():
    error = errors.from_envelope(envelope(code=4), 429, retry_after=60.0)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is errors.RateLimitError
    assert (copy.code, copy.fbtrace_id, copy.retry_after) == (4, "AbC123", 60.0)


VERIFICATION_FAILED = (
    "(#2200) Callback verification failed with the following errors: HTTP Status Code = 404; "
    "HTTP Message = Not Found"
)


@pytest.mark.parametrize("phone_number", [False, True])
def test_a_verification_failure_names_the_url_and_the_receivers_status(phone_number):
    error = errors.from_envelope(envelope(code=2200, message=VERIFICATION_FAILED), 400)
    error = errors.for_override_write(error, "https://hooks.example.com/wa",
                                      phone_number=phone_number)
    assert type(error) is errors.CallbackVerificationError
    text = str(error)
    assert text.startswith("Meta could not verify the callback URL https://hooks.example.com/wa: ")
    assert "HTTP Status Code = 404" in text
    assert "hub.challenge" in text and "HTTP 200" in text and "verify_token" in text


def test_a_403_code_200_on_a_phone_write_points_at_a_customer_managed_waba():
    def denied():
        return errors.from_envelope(envelope(code=200, message="(#200) Permissions error"), 403)

    for uri in ("https://hooks.example.com/wa", None):
        error = errors.for_override_write(denied(), uri, phone_number=True)
        assert type(error) is errors.PhoneNumberPermissionError
        assert isinstance(error, errors.PermissionDeniedError)
        assert (error.code, error.http_status, error.fbtrace_id) == (200, 403, "AbC123")
        assert "(#200) Permissions error" in str(error)
        assert "customer's own Business Manager" in str(error)
    on_a_waba = errors.for_override_write(denied(), "https://x.example/", phone_number=False)
    assert type(on_a_waba) is errors.PermissionDeniedError


def test_a_refused_phone_override_says_what_to_do():
    not_subscribed = (
        "(#100) Before override the current callback uri, your app must be subscribed to "
        "receive messages for WhatsApp Business Account"
    )

    def refused():
        return errors.from_envelope(envelope(code=100, message=not_subscribed), 400)

    error = errors.for_override_write(refused(), "https://hooks.example.com/wa", phone_number=True)
    assert type(error) is errors.PhoneOverrideRefusedError
    assert str(error).startswith(not_subscribed)
    assert "WabaCallbackOverride" in str(error) and "subscribed_apps" in str(error)
    # Clearing an override, or a WABA write: Meta's error as it is.
    assert type(errors.for_override_write(refused(), None, phone_number=True)) is (
        errors.InvalidParameterError)
    assert type(errors.for_override_write(refused(), "https://x.example/", phone_number=False)) is (
        errors.InvalidParameterError)


def test_errors_made_specific_survive_pickling():
    error = errors.for_override_write(
        errors.from_envelope(envelope(code=2200, message=VERIFICATION_FAILED), 400),
        "https://hooks.example.com/wa", phone_number=False,
    )
    copy = pickle.loads(pickle.dumps(error))
    assert str(copy) == str(error) and copy.callback_uri == "https://hooks.example.com/wa"
    denied = errors.for_override_write(
        errors.from_envelope(envelope(code=200), 403), None, phone_number=True)
    assert type(pickle.loads(pickle.dumps(denied))) is errors.PhoneNumberPermissionError


def test_a_spent_budget_names_the_waba_and_the_wait_and_survives_pickling():
    answer = errors.from_envelope(envelope(code=80007), 400, retry_after=2400.0,
                                  method="GET", path="/v23.0/106540352242922")
    error = errors.BudgetExhaustedError.for_waba(answer, "102290129340398", 2400.0)
    assert isinstance(error, errors.RateLimitError) and error.code == 80007
    text = str(error)
    assert text.startswith("WABA 102290129340398 has spent")
    assert "about 40 minutes" in text and "fbtrace_id AbC123" in text
    assert "registered phone number" in text  # the hint says what to do
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is errors.BudgetExhaustedError
    assert (copy.waba_id, copy.wait_seconds, copy.retry_after) == ("102290129340398", 2400, 2400)


def test_app_token_refusals_and_the_app_dashboard_answer_are_typed():
    from waba_webhooks.errors import (
        AppSubscriptionRefusedError,
        AppTokenRequiredError,
        for_app_subscription,
    )

    fifteen = errors.from_envelope({"error": {
        "code": 15, "message": "(#15) This method must be called with an app access_token."}},
        400, method="GET", path="/v23.0/1/subscriptions")
    assert type(fifteen) is AppTokenRequiredError
    secret_required = for_app_subscription(errors.from_envelope({"error": {
        "code": 190, "message": "(#190) Application Secret required"}}, 400, method="GET"))
    assert type(secret_required) is AppTokenRequiredError
    assert "whatsapp:appSecret" in str(secret_required)
    dashboard = for_app_subscription(errors.from_envelope({"error": {
        "code": 100, "message": "(#100) Webhooks for WhatsApp is not supported"}}, 400,
        method="POST"))
    assert type(dashboard) is AppSubscriptionRefusedError
    assert "App Dashboard" in str(dashboard)
    # A read refused with code 100 stays what it is: only writes go through the dashboard.
    read = for_app_subscription(errors.from_envelope({"error": {"code": 100, "message": "x"}},
                                                     400, method="GET"))
    assert type(read) is errors.InvalidParameterError
    assert pickle.loads(pickle.dumps(dashboard)).hint == dashboard.hint
