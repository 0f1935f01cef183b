"""GraphQL over HTTP at `/graphql`, after the GraphQL-over-HTTP specification.

POST with a JSON body, or GET for queries. A client that accepts
`application/graphql-response+json` gets that media type and the specification's status codes
(400 for a request that could not be executed); legacy clients get `application/json` and 200.
Answers are encoded with orjson. Each request reads through one `Reader` (one connection). A
query the compiler plans is answered by its one statement, whose JSON text is sent as the
database made it; any other runs on the resolvers (docs/architecture.md, Compiled reads).
"""

import logging
import time
import uuid
from typing import Any

import orjson
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from server.graph.compiled import Compiled
from server.graph.context import Context
from server.graph.reader import Reader

from . import metrics

log = logging.getLogger("alliance.http")

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


class BadRequest(Exception):
    """The HTTP request itself is not a GraphQL request."""

    def __init__(
        self,
        message: str,
        status: int = 400,
        headers: dict[str, str] | None = None,
        code: str = "BAD_REQUEST",
    ):
        super().__init__(message)
        self.status = status
        self.headers = headers or {}
        self.code = code


def _too_large(limit: int) -> BadRequest:
    return BadRequest(
        f"the request is larger than {limit} bytes", status=413, code="REQUEST_TOO_LARGE"
    )


def _media_type(request: Request) -> str:
    accept = request.headers.get("accept", "")
    return GRAPHQL_RESPONSE if GRAPHQL_RESPONSE in accept or "*/*" == accept.strip() else JSON


async def _body(request: Request, limit: int) -> bytes:
    """The body, read no further than `limit`: a declared length is checked first, and chunks
    are counted as they come (a chunked body declares none)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def _params(request: Request) -> dict[str, Any]:
    limit = request.app.state.settings.max_body_bytes
    if request.method == "GET":
        if len(request.scope["query_string"]) > limit:
            raise _too_large(limit)
        params: dict[str, Any] = dict(request.query_params)
        if "variables" in params:
            try:
                params["variables"] = orjson.loads(params["variables"])
            except orjson.JSONDecodeError:
                raise BadRequest("`variables` is not valid JSON") from None
    else:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != JSON:
            raise BadRequest("POST a JSON body with Content-Type: application/json", status=415)
        try:
            params = orjson.loads(await _body(request, limit))
        except orjson.JSONDecodeError as exc:
            raise BadRequest(f"the body is not valid JSON: {exc}") from None
    if not isinstance(params, dict):
        raise BadRequest("the body must be a JSON object with `query`")
    if not isinstance(params.get("query"), str) or not params["query"].strip():
        raise BadRequest("`query` must be a non-empty string")
    if not isinstance(params.get("variables") or {}, dict):
        raise BadRequest("`variables` must be a JSON object")
    if not isinstance(params.get("operationName") or "", str):
        raise BadRequest("`operationName` must be a string")
    return params


def _error_code(error: GraphQLError) -> str:
    if error.message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    if error.path is None:
        return "GRAPHQL_VALIDATION_FAILED"
    return "INTERNAL_SERVER_ERROR" if error.original_error is None else "BAD_REQUEST"


def _formatted(error: GraphQLError) -> dict[str, Any]:
    found = error.formatted
    found.setdefault("extensions", {}).setdefault("code", _error_code(error))
    return found


def _response(
    payload: dict[str, Any] | str, status: int, media_type: str, headers: dict[str, str]
) -> Response:
    # A compiled answer is the `data` text as the database built it, passed through.
    body = (
        b'{"data":' + payload.encode() + b"}" if isinstance(payload, str) else orjson.dumps(payload)
    )
    return Response(body, status_code=status, media_type=media_type, headers=headers)


async def graphql(request: Request) -> Response:
    started = time.perf_counter()
    request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
    media_type = _media_type(request)
    headers = {"x-request-id": request_id}
    operation = None
    path = "resolvers"
    try:
        params = await _params(request)
        operation = params.get("operationName")
        payload, request_error = await _execute(request, params)
        path = "compiled" if isinstance(payload, str) else path
        # Only the new media type may say 400 for a request that could not be executed.
        status = 400 if request_error and media_type == GRAPHQL_RESPONSE else 200
    except BadRequest as exc:
        payload = {"errors": [{"message": str(exc), "extensions": {"code": exc.code}}]}
        status = exc.status
        headers |= exc.headers
    elapsed = time.perf_counter() - started
    outcome = "error" if isinstance(payload, dict) and "errors" in payload else "ok"
    label = metrics.operation_label(operation)
    metrics.REQUESTS.labels(label, outcome).inc()
    metrics.LATENCY.labels(label).observe(elapsed)
    metrics.READ_PATH.labels(path).inc()
    log.info(
        "graphql %s %s",
        operation or "-",
        outcome,
        extra={
            "request_id": request_id,
            "status": status,
            "ms": round(elapsed * 1000, 2),
            "path": path,
        },
    )
    return _response(payload, status, media_type, headers)


async def _execute(request: Request, params: dict[str, Any]) -> tuple[dict[str, Any] | str, bool]:
    """Run the operation; the flag tells a request error (nothing executed) from a result. A
    compiled answer comes back as the text of its `data`."""
    state = request.app.state
    reader = Reader(state.engine)
    allowed = {OperationType.QUERY} if request.method == "GET" else None
    try:
        plan = state.compiler.prepare(
            params["query"], params.get("operationName"), params.get("variables") or {}
        )
        if isinstance(plan, Compiled):
            data = await state.compiler.run(plan, reader)
            if data is not None:
                return data, False
        result = await state.schema.execute(
            params["query"],
            variable_values=params.get("variables"),
            operation_name=params.get("operationName"),
            context_value=Context(reader=reader, settings=state.settings),
            allowed_operation_types=allowed,
        )
    except InvalidOperationTypeError:
        raise BadRequest(
            "only queries may be sent with GET; POST mutations",
            status=405,
            headers={"allow": "POST"},
        ) from None
    except CannotGetOperationTypeError:
        name = params.get("operationName")
        raise BadRequest(f"the document has no operation named {name!r}") from None
    finally:
        await reader.close()
    errors = [_formatted(e) for e in result.errors or []]
    request_error = (
        result.data is None and bool(errors) and all(e.path is None for e in result.errors)
    )
    if request_error:
        return {"errors": errors}, True
    payload: dict[str, Any] = {"data": result.data}
    if errors:
        payload["errors"] = errors
    return payload, False
