"""The Pulumi resources, one per file with its rules, its ``Args`` and its ``Outputs``.

What they share lives beside them: `waba_webhooks.rules` (the kinds, the base of the rules, a
resource's inputs in a program); `waba_webhooks.tables` turns a routing table into them.
"""

from ..rules.function import Function
from ..rules.kind import Kind
from .app_subscription import KIND as APP_SUBSCRIPTION
from .phone import KIND as PHONE
from .waba import KIND as WABA
from .waba_routing import GET_EFFECTIVE_ROUTING
from .waba_routing import KIND as WABA_ROUTING

#: Every kind of resource, as both doors offer them.
KINDS: tuple[Kind, ...] = (WABA, PHONE, WABA_ROUTING, APP_SUBSCRIPTION)
#: Every function (a read of what is live, recorded nowhere), as the plugin and
#: `waba_webhooks.native` offer them.
FUNCTIONS: tuple[Function, ...] = (GET_EFFECTIVE_ROUTING,)

__all__ = ["APP_SUBSCRIPTION", "FUNCTIONS", "GET_EFFECTIVE_ROUTING", "KINDS", "PHONE", "WABA",
           "WABA_ROUTING", "Function", "Kind"]
