"""The routing report (`report.Report`) as Markdown for a pull request, always small enough to
post: cut to GitHub's 65,536 characters (`fit`), saying what was left out and where the whole
report is (``--full-report FILE``).

First and loudly what an app-level change does: when the ``messages`` field goes, Meta delivers
no messages webhook anywhere, overrides included; when the app's callback URL moves, every number
without an override and every template and account webhook moves with it. Then the numbers that
change route (numbers that move the same way share a row), the app's subscription, the
overrides, warnings and the folded resource steps.

The report never contains a secret: every plaintext secret the input holds (and the access
token) is masked (`mask`) if it shows up anyway. The cell helpers (`plain`, `cell`, `code`,
`plural`), `number_table` and `write_reports` serve the drift report too.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from . import fit
from . import preview as pv
from .apps import provider_name
from .preview import KNOWN_AFTER_APPLY, Opaque, OverrideStep, Preview, Uri
from .report import (
    APP,
    MESSAGES,
    OVERRIDE_FIELDS,
    STACKS_SEPARATOR,
    AppChange,
    Fields,
    NumberRoute,
    OverrideChange,
    Report,
)

#: Shortest secret the final masking pass replaces (shorter ones would garble ids and URLs; the
#: report never takes text from the properties that hold secrets in the first place).
MIN_MASKED_SECRET = 4

#: Numbers a shared row of a report that must fit lists in its fold (the full report: all).
FOLDED = 100


def render(report: Report, secrets: Iterable[str] = (), *, limit: int | None = fit.GITHUB_LIMIT,
           where: str = "") -> str:
    """The report as Markdown (summary, changed numbers, overrides, warnings, folded steps),
    with any secret in `secrets` masked. Numbers that move the same way share a row. With a
    `limit` (GitHub's, by default) rows are left out as needed to stay within it, saying how
    many and that the full report is `where`; None: everything."""
    return mask(_fitted(blocks(report, folded=None if limit is None else FOLDED), limit, where),
                secrets)


def _fitted(parts: list[fit.Block], limit: int | None, where: str) -> str:
    return fit.full(parts) if limit is None else fit.fit(parts, limit, where)


def blocks(report: Report, folded: int | None = FOLDED) -> list[fit.Block]:
    """The report's Markdown blocks, tables as `fit.Table`s; a shared row lists at most
    `folded` of its numbers (None: all)."""
    preview = report.preview
    out: list[fit.Block] = []
    title = "## Webhook routing"
    if preview.stack:
        noun = "stacks" if STACKS_SEPARATOR in preview.stack else "stack"
        title += f" — {noun} `{plain(preview.stack)}`"
    out += [title, ""]
    changed = [n for n in report.numbers if n.changes_route or n.changes_rule_only]
    moving = [n for n in changed if n.changes_route and not n.known_after_apply]
    unknown = [n for n in changed if n.known_after_apply]
    rule_only = [n for n in changed if n.changes_rule_only]
    same = len(report.numbers) - len(changed)
    ours = [s for s in preview.steps if s.op != "same"]
    out += _app_alerts(report, changed)
    app_changes = any(c.applies and (c.url_changes or c.added or c.dropped)
                      for c in report.app_changes)
    if not changed and app_changes:
        out.append(f"**No phone number changes route** ({plural(len(report.numbers), 'number')} "
                   "read); the app's subscription changes: see below.")
    elif not changed:
        if ours:
            out.append(f"**No routing changes.** {plural(len(report.numbers), 'phone number')} "
                       "read from Graph keep their route.")
        else:
            out.append("**No routing changes.** The preview changes no webhook override.")
    else:
        parts = [f"**{plural(len(moving), 'phone number')} change route**"]
        if unknown:
            parts.append(f"{len(unknown)} known only after apply")
        if rule_only:
            parts.append(f"{len(rule_only)} keep their URL under another rule")
        parts.append(f"{same} unchanged")
        out.append(", ".join(parts) + f" (of {plural(len(report.numbers), 'number')} read).")
    if report.wabas_read or report.phones_read:
        read = [f"every number of {plural(len(report.wabas_read), 'WABA')} "
                f"({_ids(report.wabas_read)})"] if report.wabas_read else []
        if report.phones_read:
            read.append(plural(len(report.phones_read), "phone number") + " read one by one")
        out.append("")
        out.append(f"*Before*: live from Graph (read-only): {' and '.join(read)}. *After*: "
                   "with this preview applied.")
    if changed:
        out += ["", number_table(changed, folded)]
    out += _app_section(report)
    if report.overrides:
        # Sorted: Pulumi prints steps in the order they finish, which varies between runs.
        rows = []
        for change in sorted(report.overrides, key=lambda c: (c.target, c.step.name)):
            kind, object_id = change.target
            noun = "WABA" if kind == "waba" else "phone number"
            if change.app:
                object_id += f" (app {change.app})"
            rows.append(f"| {noun} {object_id} | `{plain(change.step.name)}` | {change.step.op}"
                        f" | {code(_uri(change.before))} | {code(_uri(change.after))} | "
                        f"{cell(_effect_note(change))} |")
        out += ["", fit.Table(["### Overrides", "",
                               "| override | resource | step | now | after | note |",
                               "| --- | --- | --- | --- | --- | --- |"], rows, "override rows")]
    if unknown:
        out += ["", fit.Table(["### Known after apply", ""],
                              [f"- {n.phone_number_id}: {n.after.rule} route {KNOWN_AFTER_APPLY}"
                               for n in unknown], "numbers known after apply")]
    if report.warnings:
        out += ["", fit.Table(["### Warnings", ""], [f"- {cell(w)}" for w in report.warnings],
                              "warnings")]
    out += ["", *_steps_details(preview), ""]
    return out


def number_table(numbers: list[NumberRoute], folded: int | None = FOLDED,
                 columns: tuple[str, str] = ("before", "after")) -> fit.Table:
    """One row per way of moving: numbers with the same before, after, rule and why share a
    row, with their count and the numbers folded in a ``<details>`` (at most `folded`).
    `columns` names the before and after columns."""
    apps = any(n.app for n in numbers)
    groups: dict[tuple[str | None, str, str, str, tuple[str, ...]], list[NumberRoute]] = {}
    for n in numbers:
        groups.setdefault((n.app, n.before.shown(), n.after.shown(), _rule(n), n.why),
                          []).append(n)
    rows = []
    for (app, before, after, rule, why), members in groups.items():
        rows.append(f"| {_numbers_cell(members, folded)} | "
                    + (f"{app or '—'} | " if apps else "")
                    + f"{code(before)} | {code(after)} | {rule} | {', '.join(why) or '—'} |")
    if apps:  # a stack of several apps: each route is one app's
        return fit.Table([f"| phone number | app | {columns[0]} | {columns[1]} | rule | why |",
                          "| --- | --- | --- | --- | --- | --- |"], rows, "phone number rows")
    return fit.Table([f"| phone number | {columns[0]} | {columns[1]} | rule | why |",
                      "| --- | --- | --- | --- | --- |"], rows, "phone number rows")


def _rule(n: NumberRoute) -> str:
    return n.before.rule if n.before.rule == n.after.rule else f"{n.before.rule} → {n.after.rule}"


def _number(n: NumberRoute) -> str:
    return f"{n.phone_number_id} ({cell(n.display)})" if n.display else n.phone_number_id


def _numbers_cell(members: list[NumberRoute], folded: int | None) -> str:
    if len(members) == 1:
        return _number(members[0])
    shown = members if folded is None else members[:folded]
    listed = "<br>".join(_number(n) for n in shown)
    if len(shown) < len(members):
        listed += f"<br>… and {len(members) - len(shown)} more (in the full report)"
    wabas = {n.waba_id for n in members}
    of = f" of WABA {next(iter(wabas))}" if len(wabas) == 1 and None not in wabas else ""
    return f"<details><summary>{len(members)} numbers{of}</summary>{listed}</details>"


def _ids(ids: list[str], shown: int = 10) -> str:
    listed = ", ".join(ids[:shown])
    return listed if len(ids) <= shown else f"{listed} and {len(ids) - shown} more"


def _app_alerts(report: Report, changed: list[NumberRoute]) -> list[str]:
    """What an app-level change does, first and in words a reviewer cannot miss."""
    out: list[str] = []
    unnamed = ("numbers of WABAs this stack does not name" if report.preview.table_wabas
               else "numbers of WABAs this preview does not touch")
    for change in report.app_changes:
        name = f"`{plain(change.step.name)}`"
        if change.stops_messages:
            cause = ("removes the app's webhook subscription" if change.effect == "remove"
                     else "drops the app's `messages` field")
            stopped = sum(1 for n in changed if n.after.uri is None and n.before.uri is not None)
            out += ["> [!CAUTION]",
                    f"> **EVERY MESSAGES WEBHOOK OF THE APP STOPS.** {name} {cause}: once "
                    "applied, Meta delivers no messages webhook for any phone number of any "
                    "WABA of the app, not to the app's callback URL and not to any WABA or "
                    f"phone number override ({plural(stopped, 'number')} read below, and the "
                    f"{unnamed}).", ""]
        elif change.effect == "remove":
            out += ["> [!CAUTION]",
                    f"> **Every webhook of the app stops.** {name} removes the app's webhook "
                    "subscription.", ""]
        if change.url_changes and change.after_url is not None:
            moving = [n for n in changed if APP in (n.before.rule, n.after.rule)
                      and "via app callback URL" in n.why]
            template = [f for f in change.after_fields or () if f not in OVERRIDE_FIELDS] if (
                isinstance(change.after_fields, tuple)) else []
            which = (f" ({', '.join(f'`{f}`' for f in template)})" if template else "")
            out += ["> [!WARNING]",
                    f"> **The app's callback URL changes**: {code(_uri(change.before_url))} → "
                    f"{code(_uri(change.after_url))} ({name}). Every phone number without an "
                    f"override moves with it: {plural(len(moving), 'number')} read below "
                    f"(*via app callback URL*), and the {unnamed}. All template and account "
                    f"webhooks{which} move to it too: they go nowhere else.", ""]
        dropped = [f for f in change.dropped if f != MESSAGES]
        if dropped:
            out += ["> [!WARNING]",
                    f"> **Meta stops delivering {', '.join(f'`{f}`' for f in dropped)}** "
                    f"({name} drops {'them' if len(dropped) > 1 else 'it'}): a field the app "
                    "does not subscribe to reaches no callback at all.", ""]
    return out


def _app_section(report: Report) -> list[str]:
    """The app's subscription before and after, per step."""
    if not report.app_changes:
        return []
    out = ["", "### App subscription", "",
           "| resource | step | callback URL now | after | fields added | fields dropped | note |",
           "| --- | --- | --- | --- | --- | --- | --- |"]
    for change in report.app_changes:
        fields = [", ".join(f"`{f}`" for f in names) or "—"
                  for names in (change.added, change.dropped)]
        if change.applies and change.known_fields() is None:
            fields = [f"{_fields(change.after_fields)} (now: {_fields(change.before_fields)})",
                      "?"]
        out.append(f"| `{plain(change.step.name)}` | {change.step.op} | "
                   f"{code(_uri(change.before_url))} | {code(_uri(change.after_url))} | "
                   f"{fields[0]} | {fields[1]} | {cell(_app_note(change))} |")
    for change in report.app_changes:
        if isinstance(change.after_fields, tuple) and change.after_fields:
            out += ["", f"Fields after `{plain(change.step.name)}`: "
                    + ", ".join(f"`{f}`" for f in change.after_fields) + "."]
    return out


def _app_note(change: AppChange) -> str:
    words = {"set": "", "adopt": "adopts", "conflict": "fails", "keep": "kept",
             "remove": "REMOVED"}[change.effect]
    if change.effect == "set" and not (change.url_changes or change.added or change.dropped):
        words = "same URL and fields (verify token or options change)"
    if change.added and change.dropped:
        words = "; ".join(p for p in (words, "adds fields before it drops the others") if p)
    return "; ".join(part for part in (words, change.note) if part)


def _fields(fields: Fields) -> str:
    if fields is None:
        return "(not read)"
    if isinstance(fields, Opaque):
        return str(fields)
    return ", ".join(fields) or "(none)"


def _effect_note(change: OverrideChange) -> str:
    words = {"set": "", "adopt": "adopts", "conflict": "fails", "delete": "removed",
             "keep": "kept", "clear": "removed"}[change.effect]
    if change.effect == "set" and change.before == change.after:
        words = "same URL (verify token or options change)"
    return "; ".join(part for part in (words, change.note) if part)


def _steps_details(preview: Preview) -> list[fit.Block]:
    ours = sorted((s for s in preview.steps if s.op != "same"), key=lambda s: s.name)
    others = sorted((op, urn) for op, urn in preview.other_steps if op not in ("same", ""))
    counts: dict[str, int] = {}
    for step in ours:
        counts[step.op] = counts.get(step.op, 0) + 1
    summary = ", ".join(f"{n} {op}" for op, n in sorted(counts.items())) or "no change"
    lines: list[fit.Block] = [
        f"<details><summary>Resource steps: {summary} on webhook overrides, "
        f"{len(others)} on other resources; {preview.unchanged} resources unchanged"
        "</summary>", ""]
    if ours or others:
        rows = [f"| {step.op} | `{plain(step.name)}`{_provider(step)} | {step.kind.name} | "
                f"{cell(_declared_ids(step))} | {cell(_declared_uris(step))} |"
                for step in ours]
        for op, urn in others:
            name = urn.rsplit("::", 1)[-1]
            kind = urn.split("::")[-2] if urn.count("::") >= 3 else ""
            rows.append(f"| {plain(op)} | `{plain(name)}` | {cell(kind)} | | |")
        lines += [fit.Table(["| step | resource | type | target | callback URI |",
                             "| --- | --- | --- | --- | --- |"], rows, "resource steps"), ""]
    lines.append("</details>")
    return lines


def _provider(step: OverrideStep) -> str:
    """`` (provider `name`)`` for a resource of an explicit provider."""
    return f" (provider `{plain(provider_name(step.provider))}`)" if step.provider else ""


#: Objects a resource step lists by id before it only counts them (a `WabaRouting` of 450
#: numbers would otherwise fill a row with 450 ids and their URIs).
LISTED_TARGETS = 6


def _declared_ids(step: OverrideStep) -> str:
    def ids(declared: pv.Declared | None) -> str:
        if declared is None:
            return ""
        if declared.app is not None:
            return "the app"
        if len(declared.wabas) + len(declared.phones) > LISTED_TARGETS:
            return ", ".join([f"WABA {i}" for i in declared.wabas]
                             + [plural(len(declared.phones), "phone number")])
        return ", ".join([f"WABA {i}" for i in declared.wabas]
                         + [f"phone {i}" for i in declared.phones]) or "—"
    old, new = ids(step.old), ids(step.new)
    return old if not new else new if not old or old == new else f"{old} → {new}"


def _declared_uris(step: OverrideStep) -> str:
    def uris(declared: pv.Declared | None) -> str:
        if declared is None:
            return ""
        if declared.app is not None:
            return f"{_uri(declared.app.callback_url)} ({_fields(declared.app.fields)})"
        uris = [_uri(u) for u in [*declared.wabas.values(), *declared.phones.values()]]
        if len(uris) > LISTED_TARGETS:
            return plural(len(set(uris)), "callback URI")
        return ", ".join(uris)
    old, new = uris(step.old), uris(step.new)
    return old if not new else new if not old or old == new else f"{old} → {new}"


def _uri(uri: Uri) -> str:
    return "(none)" if uri is None else str(uri)


def plural(count: int, noun: str) -> str:
    """``1 number``, ``2 numbers``."""
    return f"{count} {noun}" + ("" if count == 1 else "s")


def plain(text: str) -> str:
    """`text` safe inside inline code in a table cell (no backtick, pipe or line break)."""
    return text.replace("`", "'").replace("|", "\\|").replace("\n", " ")


def cell(text: str) -> str:
    """`text` safe in a table cell (no pipe or line break)."""
    return text.replace("|", "\\|").replace("\n", " ").replace("\r", " ")


def code(text: str) -> str:
    """A URL as inline code; a note in parentheses, such as ``(none)``, as plain text."""
    if text.startswith("("):
        return cell(text)  # a note, not a URL
    return f"`{plain(text)}`"


def mask(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret of `secrets` (of `MIN_MASKED_SECRET` characters or more)
    replaced by ``[secret]``."""
    for secret in sorted({s for s in secrets if len(s) >= MIN_MASKED_SECRET}, key=len,
                         reverse=True):
        text = text.replace(secret, "[secret]")
    return text


def add_full_report_argument(parser: argparse.ArgumentParser) -> None:
    """``--full-report FILE``: where a report that had to be cut is written whole."""
    parser.add_argument(
        "--full-report", metavar="FILE", type=Path,
        help="also write the whole report, nothing left out, to FILE (e.g. for a CI artifact); "
             "the printed report stays within GitHub's 65,536 characters and, when it leaves "
             "rows out, names FILE")


def write_reports(blocks_of: Callable[[int | None], list[fit.Block]], secrets: Iterable[str],
                  full_report: Path | None, command: str) -> None:
    """Print the report cut to fit a GitHub comment, and write it whole to `full_report` if
    given. `blocks_of(folded)` builds the report's blocks."""
    secrets = list(secrets)
    if full_report is not None:
        full_report.write_text(mask(fit.full(blocks_of(None)), secrets), encoding="utf-8")
        where = f"in `{plain(str(full_report))}`"
    else:
        where = f"printed by `waba-webhooks {command} --full-report FILE`"
    sys.stdout.write(mask(fit.fit(blocks_of(FOLDED), fit.GITHUB_LIMIT, where), secrets))

