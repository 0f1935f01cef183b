"""The data of Alliance Hub: tables, engine and sessions, migrations and the seed data set.

`store` imports nothing else of ours; `sync` and `server` both build on it.
"""
