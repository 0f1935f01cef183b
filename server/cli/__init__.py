"""The `alliance` command: serve the API, run feeds, manage the database, print the schema.

One module per command group; this one only puts them together, in the order `--help` lists
them (commands, then groups).
"""

import typer

from . import db, feeds, keys, queries, schema, serve, sync, worker

app = typer.Typer(help="Alliance Hub: the linked graph of an alliance of cities, over GraphQL.")
app.add_typer(db.app, name="db")
app.add_typer(feeds.app, name="feeds")
app.add_typer(keys.app, name="keys")
app.add_typer(queries.app, name="queries")
app.command()(serve.serve)
app.command()(schema.schema)
app.command()(sync.sync)
app.command("runs")(sync.list_runs)
app.command("issues")(sync.list_issues)
app.command()(worker.worker)
