"""The package's version, in one place: setuptools reads it for the distribution's metadata
(pyproject.toml, ``[tool.setuptools.dynamic]``), and `waba_webhooks.__version__`,
``waba-webhooks --version`` and the Graph client's User-Agent take it from here."""

__version__ = "0.2.0"
