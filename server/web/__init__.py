"""The web process: the Starlette app that serves the schema of `server`, and what runs with it.

`app` builds the application and its lifespan; `http` answers `/graphql`, `graphiql` serves `/`
from the files `graphiql_assets` installs, `health` answers the probes and `metrics` the
scraper; `demo` publishes the demo feeds and `scheduling` runs the feed scheduler beside the API.
`graphiql_assets` runs before the dependencies are installed, so nothing here is imported eagerly.
"""
