"""The routing table `discover` writes: built from what is live, or merged into a table a stack
config file already has.

The table is a round-trip YAML mapping (ruamel.yaml), so a merge keeps the existing table's
comments, order and values. Merge rules:

* WABAs and numbers already in the table keep their entries as they are, token names included
  (a live route that differs is reported, not written: the table is what ``pulumi up`` applies).
* WABAs and numbers found live and not in the table are added, each with a comment saying where
  its messages webhooks go now.
* Entries whose WABA or number no longer exists live are kept, never dropped, and flagged: a
  ``discover:`` note at the end of their first line and a line on stderr. A note of an earlier run
  that no longer applies is removed; other comments are never touched.
* WABAs that could not be read are named, with Meta's reason, in ``discover:`` comment lines
  under ``wabas:`` (they get no entry: ``pulumi up`` could not read them either).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark
from ruamel.yaml.scalarstring import DoubleQuotedScalarString
from ruamel.yaml.tokens import CommentToken

from ..graph import AppSubscription, PhoneNumberRouting
from .estate import LiveWaba, Unreadable

PHONE, WABA, APP = "phone number override", "WABA override", "app callback URL"
NOT_DELIVERED = "not delivered"
#: `WebhookConfiguration.effective_rule` -> how the summary and comments say it.
RULES = {"phone_number": PHONE, "whatsapp_business_account": WABA, "application": APP}
#: Starts every comment `discover` owns (and may replace on the next run).
NOTE = "discover: "


class RoutingTableError(ValueError):
    """The existing table has a shape `discover` cannot merge into; the message says where."""


@dataclass
class MergeReport:
    """What a merge did, for the summary on stderr."""

    added_wabas: list[str] = field(default_factory=list)
    added_numbers: list[str] = field(default_factory=list)
    kept_wabas: list[str] = field(default_factory=list)
    kept_numbers: list[str] = field(default_factory=list)
    #: (entry, why) for entries whose WABA or number no longer exists live.
    gone: list[tuple[str, str]] = field(default_factory=list)
    #: Entries kept as the table has them although what is live differs.
    differs: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Scope:
    """What this run can say is gone: WABAs Meta says do not exist, and, when a business's
    whole list was read, the WABAs it lists (a table WABA outside it is gone from the
    business)."""

    missing: Mapping[str, str] = field(default_factory=dict)
    business_id: str | None = None
    listed: frozenset[str] | None = None


# ---- what is live -------------------------------------------------------------------------------


def effective(waba: LiveWaba, number: PhoneNumberRouting) -> tuple[str | None, str]:
    """Where a number's messages webhooks go now, and the rule that sends them there."""
    if not waba.subscribed:
        return None, f"none: our app is not subscribed to WABA {waba.waba_id}"
    routing = number.webhook_configuration
    if routing.effective is None:
        return None, "none: the app has no callback URL"
    return routing.effective, RULES[routing.effective_rule]


def declared_override(waba: LiveWaba, number: PhoneNumberRouting) -> str | None:
    """The number's override as the table declares it: ours as it is live, except on a WABA our
    app is not subscribed to. There nothing reaches the app, and declaring a route would make
    `pulumi up` subscribe it (a write that starts deliveries): the table leaves such overrides
    unlisted, so adopting changes nothing, and says so in the number's comment."""
    return number.webhook_configuration.phone_number if waba.subscribed else None


def waba_note(waba: LiveWaba) -> str:
    """What a WABA's comment says about it."""
    named = f"{waba.name}: " if waba.name else ""
    if not waba.subscribed:
        return f"{named}our app is NOT subscribed: no messages webhooks reach it"
    if waba.override:
        return f"{named}WABA override {waba.override}"
    return f"{named}no WABA override: numbers without their own go to the app's callback URL"


def live_uris(wabas: Iterable[LiveWaba]) -> set[str]:
    """Every callback URI the table would declare for these WABAs."""
    uris: set[str] = set()
    for waba in wabas:
        if waba.override:
            uris.add(waba.override)
        uris |= {uri for n in waba.numbers if (uri := declared_override(waba, n))}
    return uris


def host(uri: str) -> str:
    """The URI's host (``callback`` when it has none)."""
    try:
        return urlsplit(uri).hostname or "callback"
    except ValueError:
        return "callback"


def token_names(uris: Iterable[str], existing: Mapping[str, str] | None = None) -> dict[str, str]:
    """One verify token name per distinct URL host: ``existing`` (host -> name, from a table
    being updated) where it has one, else the host as a config-path-safe slug
    (``hooks.example.com`` -> ``hooks-example-com``)."""
    existing = dict(existing or {})
    names: dict[str, str] = {}
    taken = set(existing.values())
    for name_host in sorted({host(uri) for uri in uris}):
        if name_host in existing:
            names[name_host] = existing[name_host]
            continue
        base = re.sub(r"[^a-z0-9]+", "-", name_host.lower()).strip("-") or "callback"
        if not base[0].isalpha():
            base = f"host-{base}"  # a path segment such as "127-0-0-1" reads oddly; keep it a word
        name, n = base, 2
        while name in taken:
            name, n = f"{base}-{n}", n + 1
        names[name_host] = name
        taken.add(name)
    return names


def names_in(table: Any) -> dict[str, str]:
    """host -> verify token name, as an existing routing table assigns them."""
    found: dict[str, str] = {}
    for entry in _entries(table, "wabas") + _entries(table, "phoneNumbers"):
        if entry.get("callbackUri") and isinstance(entry.get("verifyToken"), str):
            found.setdefault(host(str(entry["callbackUri"])), entry["verifyToken"])
    app = table.get("app") if isinstance(table, Mapping) else None
    if isinstance(app, Mapping) and app.get("callbackUrl") and isinstance(
            app.get("verifyToken"), str):
        found.setdefault(host(str(app["callbackUrl"])), app["verifyToken"])
    return found


def app_note(app: AppSubscription) -> str:
    """What the ``app`` block's comment and discover's summary say of the live subscription."""
    active = "" if app.active else "NOT active; "
    return (f"{active}the app's subscription: {app.callback_url} gets every number without an "
            f"override and all template and account webhooks; {len(app.fields)} fields")


def app_block(app: AppSubscription, names: Mapping[str, str]) -> dict[str, Any]:
    """The table's ``app`` block declaring the app's live subscription as it is."""
    return {"callbackUrl": app.callback_url, "verifyToken": names[host(app.callback_url)],
            "fields": list(app.fields)}


def routing_table(wabas: list[LiveWaba], names: Mapping[str, str],
                  app_callback_uri: str | None,
                  app: AppSubscription | None = None) -> dict[str, Any]:
    """The routing table of what is live (plain data, as `waba_webhooks.routing.plan` reads
    it); with the app's live subscription `app`, its ``app`` block instead of
    ``appCallbackUri``."""
    table: dict[str, Any] = {}
    if app:
        table["app"] = app_block(app, names)
    elif app_callback_uri:
        table["appCallbackUri"] = app_callback_uri
    table["wabas"] = [_route({"wabaId": w.waba_id}, w.override, names) for w in wabas]
    table["phoneNumbers"] = [
        _route({"phoneNumberId": n.phone_number_id, "wabaId": w.waba_id},
               declared_override(w, n), names)
        for w in wabas for n in w.numbers
    ]
    return table


# ---- the YAML table -----------------------------------------------------------------------------


def merge(existing: Any, wabas: list[LiveWaba], names: Mapping[str, str],
          app_callback_uri: str | None, unreadable: Sequence[Unreadable] = (),
          scope: Scope | None = None,
          app: AppSubscription | None = None) -> tuple[CommentedMap, MergeReport]:
    """The table with what is live merged in (a new table when ``existing`` is None), following
    the module's rules; ``existing`` is changed in place. With the app's live subscription
    `app`, a table without an ``app`` block gains one (replacing the informational
    ``appCallbackUri``); an ``app`` block already there is kept as it is."""
    scope = scope or Scope()
    report = MergeReport()
    table = existing if existing is not None else CommentedMap()
    if not isinstance(table, CommentedMap):
        raise RoutingTableError("the routing table is not a mapping (app, wabas, "
                                "phoneNumbers); edit it by hand")
    if app and "app" in table:
        declared = table["app"] if isinstance(table["app"], Mapping) else {}
        if (declared.get("callbackUrl") != app.callback_url
                or set(declared.get("fields") or ()) != set(app.fields)):
            report.differs.append(
                f"the app's subscription: the table says {declared.get('callbackUrl')} with "
                f"{len(declared.get('fields') or ())} fields, live is {app.callback_url} with "
                f"{len(app.fields)} fields")
    elif app:
        table.pop("appCallbackUri", None)
        table.insert(0, "app", CommentedMap(app_block(app, names)), comment=app_note(app))
    elif app_callback_uri and "appCallbackUri" not in table and "app" not in table:
        table.insert(0, "appCallbackUri", app_callback_uri,
                     comment="informational: the App Dashboard's callback URL")
    waba_list = _list(table, "wabas")
    number_list = _list(table, "phoneNumbers")
    live = {w.waba_id: w for w in wabas}
    not_read = {u.target.waba_id: u for u in unreadable}
    live_numbers = {n.phone_number_id: w for w in wabas for n in w.numbers}

    in_table = set()
    for i, entry in enumerate(waba_list):
        waba_id = _entry_id(entry, "wabaId", f"wabas[{i}]")
        in_table.add(waba_id)
        gone = _waba_gone(waba_id, scope, live)
        failed = not_read.get(waba_id)
        note = (f"no longer live: {gone}" if gone else
                f"not read: {failed.reason}" if failed else None)
        _set_note(entry, "wabaId", note)
        if gone:
            report.gone.append((f"WABA {waba_id}", gone))
        if waba_id in live:
            report.kept_wabas.append(waba_id)
            in_entry, now = entry.get("callbackUri") or None, live[waba_id].override
            if in_entry != now:
                report.differs.append(f"WABA {waba_id}: the table says {in_entry or 'no override'}"
                                      f", live it is {now or 'no override'}")
    for waba in wabas:
        if waba.waba_id not in in_table:
            waba_list.append(_waba_entry(waba, names))
            report.added_wabas.append(waba.waba_id)

    numbers_in_table = set()
    for i, entry in enumerate(number_list):
        phone_id = _entry_id(entry, "phoneNumberId", f"phoneNumbers[{i}]")
        numbers_in_table.add(phone_id)
        waba_id = str(entry.get("wabaId") or "")
        gone = None
        if phone_id in live_numbers:
            report.kept_numbers.append(phone_id)
            owner = live_numbers[phone_id]
            number = next(n for n in owner.numbers if n.phone_number_id == phone_id)
            in_entry, now = entry.get("callbackUri") or None, declared_override(owner, number)
            if in_entry != now:
                report.differs.append(f"phone number {phone_id}: the table says "
                                      f"{in_entry or 'no override'}, live it is "
                                      f"{now or 'no override'}")
        elif waba_id in live:
            gone = f"not a number of WABA {waba_id} any more"
        elif waba_id and (why := _waba_gone(waba_id, scope, live)):
            gone = f"its WABA is gone ({why})"
        _set_note(entry, "phoneNumberId", f"no longer live: {gone}" if gone else None)
        if gone:
            report.gone.append((f"phone number {phone_id}", gone))
    for waba in wabas:
        for number in waba.numbers:
            if number.phone_number_id not in numbers_in_table:
                number_list.append(_number_entry(waba, number, names))
                report.added_numbers.append(number.phone_number_id)

    _note_unreadable(table, [u for u in unreadable if u.target.waba_id not in in_table])
    for key in ("wabas", "phoneNumbers"):
        if table[key]:
            table[key].fa.set_block_style()
    return table, report


def _waba_gone(waba_id: str, scope: Scope, live: Mapping[str, LiveWaba]) -> str | None:
    if waba_id in scope.missing:
        return f"Meta: {scope.missing[waba_id]}"
    if scope.listed is not None and waba_id not in scope.listed and waba_id not in live:
        return f"not among business {scope.business_id}'s WABAs"
    return None


def _waba_entry(waba: LiveWaba, names: Mapping[str, str]) -> CommentedMap:
    entry = CommentedMap(wabaId=DoubleQuotedScalarString(waba.waba_id))
    if waba.override:
        entry["callbackUri"] = waba.override
        entry["verifyToken"] = names[host(waba.override)]
    entry.yaml_add_eol_comment(_comment(waba_note(waba)), "wabaId")
    return entry


def _number_entry(waba: LiveWaba, number: PhoneNumberRouting,
                  names: Mapping[str, str]) -> CommentedMap:
    entry = CommentedMap(phoneNumberId=DoubleQuotedScalarString(number.phone_number_id),
                         wabaId=DoubleQuotedScalarString(waba.waba_id))
    uri, rule = effective(waba, number)
    where = f"{uri} ({rule})" if uri else rule
    live = number.webhook_configuration.phone_number
    own = declared_override(waba, number)
    if live and not own:
        where += f"; our override {live} is set but not listed"
    if own:
        entry["callbackUri"] = own
        entry["verifyToken"] = names[host(own)]
    shown = number.display_phone_number or "(no display number)"
    entry.yaml_add_eol_comment(_comment(f"{shown} -> {where}"), "phoneNumberId")
    return entry


def _route(entry: dict[str, Any], uri: str | None, names: Mapping[str, str]) -> dict[str, Any]:
    if uri:
        entry.update(callbackUri=uri, verifyToken=names[host(uri)])
    return entry


def _list(table: CommentedMap, key: str) -> CommentedSeq:
    value = table.get(key)
    if value is None:
        value = table[key] = CommentedSeq()
    if not isinstance(value, CommentedSeq):
        raise RoutingTableError(f"{key} in the routing table is not a list; edit it by hand")
    return value


def _entries(table: Any, key: str) -> list[Mapping[str, Any]]:
    entries = table.get(key) if isinstance(table, Mapping) else None
    return [e for e in entries if isinstance(e, Mapping)] if isinstance(entries, list) else []


def _entry_id(entry: Any, key: str, where: str) -> str:
    if not isinstance(entry, CommentedMap) or not isinstance(entry.get(key), str | int):
        raise RoutingTableError(f"{where} of the routing table has no {key}; edit it by hand")
    return str(entry[key])


def _set_note(entry: CommentedMap, key: str, note: str | None) -> None:
    """Put (or, with None, take away) discover's note at the end of the line of ``key``,
    keeping the rest of that comment and any comment lines that follow it."""
    token = _eol_token(entry, key)
    text = token.value if token is not None else ""
    first, newline, rest = text.partition("\n")
    own = first.strip().removeprefix("#").strip()
    if own.startswith(NOTE):
        own = own.split(" | ", 1)[1] if " | " in own else ""
    parts = [f"{NOTE}{note.replace('|', '/')}"] if note else []
    if own:
        parts.append(own)
    line = _comment(" | ".join(parts))
    if token is None:
        if line:
            entry.yaml_add_eol_comment(line, key)
        return
    # A comment that was on this line keeps its column; a new one gets two spaces, as
    # ruamel.yaml's own end-of-line comments do.
    lead = "# " if first.strip() else " # "
    token.value = (f"{lead}{line}" if line else "") + newline + rest


def _eol_token(entry: CommentedMap, key: str) -> CommentToken | None:
    items = entry.ca.items.get(key)
    token = items[2] if items and len(items) > 2 else None
    return token if isinstance(token, CommentToken) else None


def _note_unreadable(table: CommentedMap, unreadable: list[Unreadable]) -> None:
    """discover's comment lines under ``wabas:``: one per WABA not read (the lines of an earlier
    run replaced), other comments there kept.

    ruamel.yaml keeps the comment lines between ``wabas:`` and its first item either after the
    key's end-of-line comment (one token) or, when the key has none, as a list of line tokens;
    both are read, and written back as the first form."""
    items = table.ca.items.setdefault("wabas", [None, None, None, None])
    token = items[2] if isinstance(items[2], CommentToken) else None
    first, _, rest = (token.value if token else "\n").partition("\n")
    lines = rest.splitlines(keepends=True)
    seq = table["wabas"]
    line_tokens = items[3] if isinstance(items[3], list) else []
    # Line tokens hold their text without its indentation (that is in their start mark).
    lines += [" " * int(getattr(t.start_mark, "column", 0) or 0) + t.value.lstrip(" ")
              for t in line_tokens if isinstance(t, CommentToken)]
    kept = [line if line.endswith("\n") else line + "\n" for line in lines
            if not line.strip().startswith(f"# {NOTE}")]
    column = _item_column(table)
    pad = " " * column
    ours = [f"{pad}# {NOTE}not read, so not in the table: {_comment(u.target.label())}: "
            f"{_comment(u.reason)}\n" for u in unreadable]
    if token is None and not ours and not line_tokens:
        return
    if token is None:
        token = CommentToken("", CommentMark(column), None)
    token.value = first + "\n" + "".join(ours + kept)
    items[2], items[3] = token, None
    if isinstance(seq, CommentedSeq):
        seq.ca.comment = [token, None]


def _item_column(table: CommentedMap) -> int:
    """The column of the ``wabas:`` list's dashes: as the file has them, else as a table under
    ``config:`` is written by default (keys at 4, dashes at 6)."""
    seq = table.get("wabas")
    try:
        _, item_col = seq.lc.item(0)
        return int(item_col) - 2
    except (AttributeError, KeyError, TypeError, IndexError):
        pass
    try:
        _, key_col = table.lc.key("wabas")
        return int(key_col) + 2
    except (AttributeError, KeyError, TypeError):
        return 6


def _comment(text: str) -> str:
    """Text safe on one YAML comment line (no line breaks or control characters)."""
    return "".join(c if c.isprintable() else "?" for c in text)
