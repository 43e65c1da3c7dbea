"""``pulumi-resource-whatsapp``: the executable the Pulumi engine starts for the ``whatsapp``
package. It serves `WhatsAppPlugin` over gRPC on a loopback port it prints, as every plugin
does, and stops with its engine (`waba_webhooks.lifeline`)."""

from __future__ import annotations

import sys

from .._version import __version__


def main() -> None:
    from pulumi.provider.experimental.server import main as serve

    from .. import lifeline
    from .adapter import WhatsAppPlugin

    if lifeline.watch_engine():
        log_to_engine(lifeline.engine_address(sys.argv))
    serve(sys.argv[1:], __version__, WhatsAppPlugin())


def log_to_engine(address: tuple[str, int] | None) -> None:
    """Send the rules' `pulumi.log` messages (a destroy that leaves the app's subscription, a
    URL Meta may refuse...) to the engine's log service, as a program's are: the engine shows
    a dynamic provider's stderr but hides a native plugin's, so without this they are lost."""
    from pulumi.runtime import settings

    if address is not None:
        host = f"[{address[0]}]" if ":" in address[0] else address[0]
        settings.configure(settings.Settings(project=None, stack=None,
                                             engine=f"{host}:{address[1]}"))


if __name__ == "__main__":
    main()
