"""The probes (docs/operations.md): `/healthz` while the process lives, `/readyz` once its
database is usable. `serve` does not migrate by itself, so a replica started before `alliance db
upgrade` ran says so here instead of failing every request."""

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from store import migrate


async def healthz(_request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Ready when the database answers and carries the newest migration."""
    try:
        current = await migrate.current(request.app.state.engine)
    except Exception as exc:  # any failure to reach the database means "not ready"
        return JSONResponse({"status": "unavailable", "database": str(exc)[:200]}, status_code=503)
    wanted = migrate.head()
    if current != wanted:
        body = {"status": "migrations pending", "current": current, "head": wanted}
        return JSONResponse(body, status_code=503)
    return JSONResponse({"status": "ok", "migration": current})
