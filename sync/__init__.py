"""Pulling partner feeds into the store: fetch, parse, validate, apply, under a lease per feed.

`sync` imports `store`, never `server`.
"""
