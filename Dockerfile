FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Build from a throwaway copy of the source; the installed package is what runs.
COPY pyproject.toml README.md /src/
COPY store /src/store
COPY sync /src/sync
COPY server /src/server
RUN pip install /src && rm -rf /src

# GraphiQL's files (npm tarballs checked against pinned hashes) go into the installed package,
# where server.web.graphiql looks for them. Run from / so that `server` is the installed one.
RUN cd / && python -m server.web.graphiql_assets fetch

RUN useradd --system --create-home --home-dir /app --uid 10001 alliance
USER alliance
WORKDIR /app

EXPOSE 8000
CMD ["alliance", "serve", "--host", "0.0.0.0", "--port", "8000"]
