"""Module paths of earlier releases, kept importable.

A dynamic resource's provider is pickled into the stack's state *by reference*: the state of a
stack created before the package was grouped into ``resources/``, ``graph/`` and ``commands/``
names ``waba_webhooks.phone.PhoneCallbackOverrideProvider`` and the like, and the engine
unpickles that path on every refresh, update and destroy; programs may import modules that later
left ``resources/`` for ``rules/`` and ``tables/``. Each old path below is an alias of the module
that now holds the code (the same module object, so classes and ``isinstance`` agree); it is
imported only when something asks for the old name, so the new layout costs nothing at import.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from types import ModuleType

#: old module path -> the module that holds its code now.
MOVED: dict[str, str] = {
    "waba_webhooks.waba": "waba_webhooks.resources.waba",
    "waba_webhooks.phone": "waba_webhooks.resources.phone",
    "waba_webhooks.waba_routing": "waba_webhooks.resources.waba_routing",
    "waba_webhooks.override": "waba_webhooks.rules.base",
    "waba_webhooks.resource": "waba_webhooks.rules.props",
    "waba_webhooks.routing": "waba_webhooks.tables.routing",
    "waba_webhooks.usage": "waba_webhooks.graph.usage",
    "waba_webhooks.cli": "waba_webhooks.commands.cli",
    "waba_webhooks.discover": "waba_webhooks.commands.discover",
    "waba_webhooks.stack_config": "waba_webhooks.commands.stack_config",
    "waba_webhooks.preview": "waba_webhooks.commands.preview",
    "waba_webhooks.review": "waba_webhooks.commands.review",
    "waba_webhooks.live_check": "waba_webhooks.commands.live_check",
    # resources/ holds the resources alone; what they share, and the routing tables, moved out.
    "waba_webhooks.resources.override": "waba_webhooks.rules.base",
    "waba_webhooks.resources.kind": "waba_webhooks.rules.kind",
    "waba_webhooks.resources.resource": "waba_webhooks.rules.props",
    "waba_webhooks.resources.lifeline": "waba_webhooks.lifeline",
    "waba_webhooks.resources.routing": "waba_webhooks.tables.routing",
    "waba_webhooks.resources.shard": "waba_webhooks.tables.shard",
    "waba_webhooks.plugin.provider": "waba_webhooks.plugin.adapter",
}

#: Classes renamed in place keep their old name beside the new one, in the same module (states
#: pickle a provider as module + class name): ``WabaRoutingProvider`` is ``WabaRoutingRules``, and
#: likewise ``WabaCallbackOverrideProvider``, ``PhoneCallbackOverrideProvider`` and
#: ``AppWebhookSubscriptionProvider``.


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds an old path in `MOVED` and loads it as the module that holds the code now."""

    def find_spec(
        self, fullname: str, path: object = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return importlib.import_module(MOVED[spec.name])

    def exec_module(self, module: ModuleType) -> None:
        """The module was executed under its new name already."""


def install() -> None:
    """Make every old path importable (once per process)."""
    if not any(isinstance(finder, _Alias) for finder in sys.meta_path):
        sys.meta_path.append(_Alias())
