"""Routing tables: ``routing`` turns a table (plain data, e.g. from stack config) into
resources; ``shard`` says which stack of a set declares which WABA of it."""
