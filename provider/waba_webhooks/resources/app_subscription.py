"""`AppWebhookSubscription`: the app's own webhook subscription, the third routing rule.

The app's callback URL receives every messages webhook of a number without an override, and
*all* template and account webhooks; its subscribed fields decide what Meta delivers at all: a
field the app does not subscribe to reaches no URL, overrides included (no ``messages``: no
message webhook anywhere). Graph API, with the **app access token** ``{app-id}|{app-secret}``
(the provider forms it from ``whatsapp:appId`` and ``whatsapp:appSecret``), object
``whatsapp_business_account``:

- ``GET /{APP_ID}/subscriptions`` reads it (never the verify token);
- ``POST`` with ``callback_url``, ``verify_token``, ``fields``, ``include_values`` sets the URL
  (one per app and object; Meta verifies it first) and *adds* fields, never removing one;
- ``DELETE`` with ``fields=`` drops those fields; with ``object`` alone it removes the whole
  subscription, and every webhook of the app stops.

Inputs: ``callback_url``, ``verify_token`` (secret), ``fields`` (the whole set: the resource is
authoritative for the app's fields), ``include_values`` (default true), ``adopt_existing``,
``remove_on_destroy`` (default false: destroy leaves the subscription and warns). Outputs besides
the inputs: ``app_id``, ``active`` and ``live_fields`` (what Meta has, in its order). The id is
the app id.

Graph calls: check and diff make none; create reads (GET), then writes only when the live
subscription differs (POST, then DELETE of fields it must drop); update reads, POSTs the new
fields (and a new URL, token or ``include_values``) *before* it DELETEs the dropped ones, so no
moment lacks a field that stays; read is one GET; delete makes none unless
``remove_on_destroy``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pulumi
from pulumi.dynamic import CheckResult, CreateResult, ReadResult, UpdateResult

from ..errors import AppSubscriptionConflictError
from ..rules.base import (
    ADOPT_EXISTING,
    VERIFY_TOKEN,
    Rules,
    check_token,
    input_changes,
    is_unknown,
    read_result,
    require_token,
)
from ..rules.diff import Diff, PropertyChange
from ..rules.kind import Kind, typed
from ..rules.props import build_props

if TYPE_CHECKING:
    from ..graph import AppSubscription

CALLBACK_URL = "callback_url"
FIELDS = "fields"
INCLUDE_VALUES = "include_values"
REMOVE_ON_DESTROY = "remove_on_destroy"
INPUTS = (CALLBACK_URL, VERIFY_TOKEN, FIELDS, INCLUDE_VALUES, ADOPT_EXISTING, REMOVE_ON_DESTROY)
#: Inputs whose change needs a Graph write (the others only change what the stack does).
REMOTE_INPUTS = (CALLBACK_URL, VERIFY_TOKEN, FIELDS, INCLUDE_VALUES)


@dataclass(frozen=True)
class Subscription:
    """What an `AppWebhookSubscription` declares, as its rules read it where every value is
    known (create, read, update, delete): `AppWebhookSubscriptionArgs`' inputs as plain
    values, an absent one as what it means."""

    callback_url: str
    fields: Sequence[str] = ()
    #: None where the resource was imported (Meta never returns a verify token).
    verify_token: str | None = None
    include_values: bool = True
    adopt_existing: bool = False
    remove_on_destroy: bool = False

    @classmethod
    def of(cls, props: Mapping[str, Any]) -> Subscription:
        """The subscription that inputs or recorded outputs (by property name) declare."""
        return typed(cls, props)

    def properties(self) -> dict[str, Any]:
        """Its properties by name, as state records them."""
        return {**dataclasses.asdict(self), FIELDS: list(self.fields)}


@dataclass(frozen=True)
class SubscriptionWrites:
    """The writes that bring the live subscription to the declared one: one POST (Meta
    verifies the URL with the token; it adds `post_fields` and sets the URL) *then* one DELETE
    of `drop` (fields that are live and not declared)."""

    post_fields: tuple[str, ...]
    drop: tuple[str, ...]

    @property
    def writes(self) -> bool:
        return bool(self.post_fields or self.drop)


def subscription_writes(live: AppSubscription | None, declared: Subscription, *,
                        token_changed: bool = False,
                        include_values_changed: bool = False) -> SubscriptionWrites:
    """What to write so that Meta holds the `declared` URL and exactly its fields. A POST
    carries the fields to add, or all declared fields when only the URL, the token or
    ``include_values`` changes (a POST must name fields; adding one that is there changes
    nothing)."""
    live_fields = list(live.fields) if live is not None else []
    add = tuple(name for name in declared.fields if name not in live_fields)
    drop = tuple(name for name in live_fields if name not in declared.fields)
    url_changed = live is None or live.callback_url != declared.callback_url
    if add:
        post: tuple[str, ...] = add
    elif url_changed or token_changed or include_values_changed:
        post = tuple(declared.fields)
    else:
        post = ()
    return SubscriptionWrites(post, drop)


def fields_after(live: AppSubscription | None, steps: SubscriptionWrites) -> list[str]:
    """The fields Meta holds after `steps`, in its order: the live ones that stay, then the
    added ones (a POST appends)."""
    kept = [name for name in (live.fields if live is not None else ()) if name not in steps.drop]
    return kept + [name for name in steps.post_fields if name not in kept]


def same_fields(a: Any, b: Any) -> bool:
    """Field lists are sets to Meta: the order is not a change."""
    return sorted(a or []) == sorted(b or [])


class AppWebhookSubscriptionRules(Rules):
    """Create/read/update/delete of the app's webhook subscription for
    ``whatsapp_business_account``."""

    noun = "app webhook subscription"

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validate inputs without any API call; every failure names its property (a field as
        ``fields[i]``). A field name Meta may not know is a warning in the preview."""
        from .. import validation

        fields = news.get(FIELDS)
        if not is_unknown(fields):
            for name in validation.unknown_webhook_fields(fields):
                pulumi.log.warn(
                    f"{self.noun}: {FIELDS} lists {name!r}, which is not a webhook field this "
                    "package knows (Meta adds fields over time; if it is a typo, Meta refuses it "
                    "at up): known fields are " + ", ".join(validation.APP_WEBHOOK_FIELDS))

        def check_fields(prop: str, value: Any) -> list[validation.Failure]:
            return validation.check_webhook_fields(prop, value, skip=is_unknown)

        return self.checked(news, INPUTS, (
            (CALLBACK_URL, self.callback_uri_check(self.noun)),
            (VERIFY_TOKEN, check_token(olds)),
            (FIELDS, check_fields),
            (INCLUDE_VALUES, validation.check_bool),
            (ADOPT_EXISTING, validation.check_bool),
            (REMOVE_ON_DESTROY, validation.check_bool),
        ))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> Diff:
        """From state alone (no Graph call): any input change, or drift a refresh recorded,
        updates in place; never a replace (there is one subscription per app)."""
        return Diff(change for name in INPUTS for change in _changes(olds, news, name))

    def create(self, props: dict[str, Any]) -> CreateResult:
        declared = Subscription.of(props)
        app_id = self.client.app_id()
        live = self.client.app_subscription(app_id)
        if live is not None and not _equal(live, declared) and not declared.adopt_existing:
            raise _conflict(app_id, live, declared)
        steps = subscription_writes(live, declared)
        self._write(app_id, steps, declared)
        return CreateResult(app_id, self._outputs(app_id, live, steps, declared))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        live = self.client.app_subscription(id_)
        if live is None:
            # Gone (removed outside the stack): an empty id drops it from state; the next `up`
            # creates it again.
            return ReadResult("", {})
        # Drift in the fields shows as a new list; the same set keeps the declared order.
        recorded: Any = props.get(FIELDS)
        fields = (list(recorded) if recorded is not None and same_fields(recorded, live.fields)
                  else list(live.fields))
        outs = {
            **Subscription.of({**props, CALLBACK_URL: live.callback_url,
                               FIELDS: fields}).properties(),
            "app_id": id_,
            "active": live.active,
            "live_fields": list(live.fields),
        }
        inputs = {name: outs[name] for name in INPUTS if outs.get(name) is not None}
        return read_result(id_, outs, inputs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        if not any(self._differs(olds, news, name) for name in REMOTE_INPUTS):
            # adopt_existing or remove_on_destroy alone: nothing changes at Meta.
            return UpdateResult({**olds, **Subscription.of(news).properties()})
        declared = Subscription.of(news)
        live = self.client.app_subscription(id_)  # read first: it may have changed by hand
        steps = subscription_writes(
            live, declared, token_changed=self._differs(olds, news, VERIFY_TOKEN),
            include_values_changed=self._differs(olds, news, INCLUDE_VALUES))
        self._write(id_, steps, declared)
        return UpdateResult(self._outputs(id_, live, steps, declared))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        recorded = Subscription.of(props)
        if not recorded.remove_on_destroy:
            pulumi.log.warn(
                f"app {id_}: left the app's webhook subscription as it is (callback URL "
                f"{recorded.callback_url}, fields {', '.join(recorded.fields)}): "
                "removing it would stop every webhook of the app, messages, templates and "
                "account alike. To remove it on destroy, set remove_on_destroy=True and run "
                "`pulumi up` before the destroy; or remove it in the App Dashboard"
            )
            return
        live = self.client.app_subscription(id_)
        if live is None:
            return
        if live.callback_url != recorded.callback_url:
            pulumi.log.warn(
                f"app {id_}: left the app's webhook subscription as it is, because its callback "
                f"URL was changed outside this stack (this stack set {recorded.callback_url}, "
                f"it is now {live.callback_url})"
            )
            return
        self.client.delete_app_subscription(id_)
        pulumi.log.info(f"app {id_}: removed the app's webhook subscription "
                        "(remove_on_destroy): Meta delivers no webhook of the app any more")

    # ---- helpers ------------------------------------------------------------------------------

    def _write(self, app_id: str, steps: SubscriptionWrites, declared: Subscription) -> None:
        """The POST (adds fields, sets the URL; Meta verifies it) before the DELETE, so every
        field that stays is subscribed throughout."""
        if steps.post_fields:
            token = require_token(declared.verify_token, f"app {app_id}")
            self.client.subscribe_app_webhooks(
                app_id, declared.callback_url, token, steps.post_fields,
                include_values=declared.include_values)
        if steps.drop:
            self.client.unsubscribe_app_fields(app_id, steps.drop)

    @staticmethod
    def _outputs(app_id: str, live: AppSubscription | None, steps: SubscriptionWrites,
                 declared: Subscription) -> dict[str, Any]:
        return {
            **declared.properties(),
            "app_id": app_id,
            "active": live.active if live is not None and not steps.writes else True,
            "live_fields": fields_after(live, steps),
        }

    @staticmethod
    def _differs(olds: Mapping[str, Any], news: Mapping[str, Any], name: str) -> bool:
        return bool(_changes(olds, news, name))


def _changes(olds: Mapping[str, Any], news: Mapping[str, Any],
             name: str) -> list[PropertyChange]:
    """How input `name` changed: the fields as a set (`same_fields`), an absent
    ``include_values`` as true, an absent ``remove_on_destroy`` as false."""
    if name == FIELDS:
        return input_changes(olds, news, FIELDS, same=_same_known_fields)
    if name == INCLUDE_VALUES:
        return input_changes(olds, news, name, True, same=_same_bool)
    if name == REMOVE_ON_DESTROY:
        return input_changes(olds, news, name, False, same=_same_bool)
    return input_changes(olds, news, name)


def _same_known_fields(old: Any, new: Any) -> bool:
    """The same set of fields, every one known."""
    return not (isinstance(new, list) and any(is_unknown(item) for item in new)) and \
        same_fields(old, new)


def _same_bool(old: Any, new: Any) -> bool:
    return bool(old) == bool(new)


def _equal(live: AppSubscription, declared: Subscription) -> bool:
    """The live subscription is the declared one: same URL, same set of fields."""
    return live.callback_url == declared.callback_url and same_fields(live.fields,
                                                                      declared.fields)


def _conflict(app_id: str, live: AppSubscription,
              declared: Subscription) -> AppSubscriptionConflictError:
    differences = []
    if live.callback_url != declared.callback_url:
        differences.append(f"its callback URL is {live.callback_url}, this stack declares "
                           f"{declared.callback_url}")
    missing = [name for name in declared.fields if name not in live.fields]
    extra = [name for name in live.fields if name not in declared.fields]
    if missing:
        differences.append(f"it lacks {', '.join(missing)}")
    if extra:
        differences.append(f"it also has {', '.join(extra)}")
    return AppSubscriptionConflictError(
        f"app {app_id} already has a webhook subscription for whatsapp_business_account that "
        f"differs from this one (set outside this stack: {'; '.join(differences)}). Nothing was "
        f"changed. To adopt it as it is, declare {CALLBACK_URL}={live.callback_url!r} and "
        f"{FIELDS}={list(live.fields)!r} (create then takes it over without a write); to "
        f"replace it with this declaration, set {ADOPT_EXISTING}=True"
    )


@dataclass
class AppWebhookSubscriptionArgs:
    """Inputs of an `AppWebhookSubscription`."""

    #: The app's callback URL: every messages webhook of a number without an override, and all
    #: template and account webhooks. ``https://``, at most 200 characters; Meta calls it with
    #: the verify token before accepting it.
    callback_url: pulumi.Input[str]
    #: Every webhook field the app subscribes to (``messages``, ``account_update``...): the
    #: whole set. A field not listed is not delivered anywhere, overrides included.
    fields: pulumi.Input[Sequence[pulumi.Input[str]]]
    #: The token Meta sends in the verification call; kept as a secret in state. Needed to
    #: create or change the subscription; one adopted by `pulumi import` has none until then
    #: (Meta never returns it), and declaring it is no change.
    verify_token: pulumi.Input[str] | None = None
    #: Ask Meta to include the changed values in the webhooks (default true).
    include_values: pulumi.Input[bool] | None = None
    #: Take over a subscription that differs (another URL or other fields; default: fail).
    adopt_existing: pulumi.Input[bool] | None = None
    #: Remove the whole subscription on destroy, stopping every webhook of the app (default:
    #: destroy leaves it and warns).
    remove_on_destroy: pulumi.Input[bool] | None = None


class AppWebhookSubscriptionOutputs:
    """The app's webhook subscription for `whatsapp_business_account`: its callback URL and
    the fields Meta delivers (`/{app-id}/subscriptions`, with the app access token formed from
    the provider's `appId` and `appSecret`).

    The resource id is the app id. Create adopts an equal live subscription (same URL, same
    fields) without a write and fails on a different one unless `adopt_existing` is true.
    Updates add fields before they drop any. Refresh reports drift (a field removed or the URL
    changed by hand); a subscription removed outside the stack leaves the state and the next
    `up` creates it again. Destroy leaves the subscription as it is and warns, unless
    `remove_on_destroy` is true: removing it stops every webhook of the app.
    """

    callback_url: pulumi.Output[str]
    verify_token: pulumi.Output[str | None]
    fields: pulumi.Output[list[str]]
    include_values: pulumi.Output[bool]
    adopt_existing: pulumi.Output[bool]
    remove_on_destroy: pulumi.Output[bool]
    #: The app (``whatsapp:appId``, else the access token's app).
    app_id: pulumi.Output[str]
    #: Whether Meta reports the subscription active.
    active: pulumi.Output[bool]
    #: The fields Meta holds, in its order, as last read or written.
    live_fields: pulumi.Output[list[str]]



class AppWebhookSubscription(AppWebhookSubscriptionOutputs, pulumi.dynamic.Resource,
                             module="waba-webhooks", name="AppWebhookSubscription"):
    """`AppWebhookSubscriptionOutputs` as a Pulumi dynamic resource, for Python programs."""

    def __init__(
        self,
        resource_name: str,
        args: AppWebhookSubscriptionArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
        *,
        callback_url: pulumi.Input[str] | None = None,
        verify_token: pulumi.Input[str] | None = None,
        fields: pulumi.Input[Sequence[pulumi.Input[str]]] | None = None,
        include_values: pulumi.Input[bool] | None = None,
        adopt_existing: pulumi.Input[bool] | None = None,
        remove_on_destroy: pulumi.Input[bool] | None = None,
    ) -> None:
        props, opts = build_props(
            args,
            opts,
            {CALLBACK_URL: callback_url, VERIFY_TOKEN: verify_token, FIELDS: fields,
             INCLUDE_VALUES: include_values, ADOPT_EXISTING: adopt_existing,
             REMOVE_ON_DESTROY: remove_on_destroy},
            outputs=KIND.properties,
            secrets=KIND.secrets,
        )
        super().__init__(AppWebhookSubscriptionRules(), resource_name, props, opts)


KIND = Kind("AppWebhookSubscription", AppWebhookSubscriptionArgs, AppWebhookSubscriptionOutputs,
            AppWebhookSubscriptionRules, id_is="the app id", secrets=(VERIFY_TOKEN,),
            defaults={INCLUDE_VALUES: True, ADOPT_EXISTING: False, REMOVE_ON_DESTROY: False})

#: The name states made before the rules were called rules pickle (by module and name).
AppWebhookSubscriptionProvider = AppWebhookSubscriptionRules
