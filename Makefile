# Alliance Hub: `make run` serves the demo, `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ASSETS := server/web/static/graphiql/.complete

.PHONY: run test schema bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# GraphiQL's files come from the npm registry, checked against pinned hashes.
# Without them the hub still serves /graphql and / explains what is missing.
$(ASSETS): $(STAMP) server/web/graphiql_assets.py
	$(BIN)/python -m server.web.graphiql_assets fetch || echo "warning: GraphiQL assets not installed; / will say so"

run: $(STAMP) $(ASSETS)
	$(BIN)/alliance serve --demo

test: $(STAMP) $(ASSETS)
	$(BIN)/pytest

schema: $(STAMP)
	$(BIN)/alliance schema > schema.graphql

bench: $(STAMP)
	$(BIN)/python bench/nested_members.py

clean:
	rm -rf $(VENV) server/web/static/graphiql
