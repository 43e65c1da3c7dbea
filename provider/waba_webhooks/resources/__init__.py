"""The Pulumi resources, one per file with its provider and ``Args`` type.

``override`` holds what every provider shares (configure, the Graph client, check plumbing, the
takeover and delete rules), ``resource`` how a resource's property bag is built, and ``routing``
turns the routing table of stack config into resources.
"""

from .app_subscription import KIND as APP_SUBSCRIPTION
from .kind import Kind
from .phone import KIND as PHONE
from .waba import KIND as WABA
from .waba_routing import KIND as WABA_ROUTING

#: Every kind of resource, as both doors offer them.
KINDS: tuple[Kind, ...] = (WABA, PHONE, WABA_ROUTING, APP_SUBSCRIPTION)

__all__ = ["APP_SUBSCRIPTION", "KINDS", "PHONE", "WABA", "WABA_ROUTING", "Kind"]
