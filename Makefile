# Alliance Hub: `make run` serves the demo, `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ASSETS := server/web/static/graphiql/.complete
CLIENTS := tests/e2e/clients/node_modules/.complete

.PHONY: run test schema bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# The browser files of GraphiQL and the console come from the npm registry, checked against
# pinned hashes.
# Without them the hub still serves /graphql, and / and /console explain what is missing.
$(ASSETS): $(STAMP) server/web/graphiql_assets.py
	$(BIN)/python -m server.web.graphiql_assets fetch || echo "warning: browser assets not installed; / and /console will say so"

# The reference WebSocket client (graphql-ws) for the tests, from the npm registry where Node is;
# without it those tests are skipped and say why.
$(CLIENTS): tests/e2e/clients/package-lock.json
	(command -v npm >/dev/null && npm ci --prefix tests/e2e/clients --no-audit --no-fund --silent && touch $(CLIENTS)) || echo "warning: graphql-ws not installed; its test will be skipped"

run: $(STAMP) $(ASSETS)
	$(BIN)/alliance serve --demo

test: $(STAMP) $(ASSETS) $(CLIENTS)
	$(BIN)/pytest

schema: $(STAMP)
	$(BIN)/alliance schema > schema.graphql

bench: $(STAMP)
	$(BIN)/python bench/nested_members.py

clean:
	rm -rf $(VENV) server/web/static/graphiql tests/e2e/clients/node_modules
