"""The data of Alliance Hub: tables, the registry that names them, engine and sessions,
migrations and the seed data set.

`store` imports nothing else of ours; `sync` and `server` both build on it.
"""
