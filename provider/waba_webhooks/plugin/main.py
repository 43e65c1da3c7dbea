"""``pulumi-resource-whatsapp``: the executable the Pulumi engine starts for the ``whatsapp``
package. It serves `WhatsAppProvider` over gRPC on a loopback port it prints, as every plugin
does, and stops with its engine (`waba_webhooks.resources.lifeline`)."""

from __future__ import annotations

import sys

from .._version import __version__


def main() -> None:
    from pulumi.provider.experimental.server import main as serve

    from ..resources import lifeline
    from .provider import WhatsAppProvider

    lifeline.watch_engine()
    serve(sys.argv[1:], __version__, WhatsAppProvider())


if __name__ == "__main__":
    main()
