"""The ``waba-webhooks`` command (``cli``) and its subcommands, one module each."""
