"""Benchmark program: ``bench:count`` `PhoneCallbackOverride`s from stack config.

``bench:idStart`` is the first phone number id, ``bench:callbackBase`` the receiver URL the
callback URIs live under, ``bench:verifyToken`` (secret) every resource's verify token.
"""

import pulumi

from waba_webhooks import PhoneCallbackOverride

config = pulumi.Config("bench")
count = config.require_int("count")
id_start = config.require_int("idStart")
base = config.require("callbackBase").rstrip("/")
token = config.require_secret("verifyToken")

for i in range(count):
    PhoneCallbackOverride(
        f"phone-{i:05d}",
        phone_number_id=str(id_start + i),
        callback_uri=f"{base}/phone-{i:05d}",
        verify_token=token,
    )
