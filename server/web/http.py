"""GraphQL over HTTP at `/graphql`, after the GraphQL-over-HTTP specification.

POST with a JSON body, or GET for queries. A client that accepts
`application/graphql-response+json` gets that media type and the specification's status codes
(400 for a request that could not be executed); legacy clients get `application/json` and 200.
Answers are encoded with orjson. Each request reads through one `Reader` (one connection). A
query the compiler plans is answered by its one statement, whose JSON text is sent as the
database made it; any other runs on the resolvers (docs/architecture.md, Compiled reads).
Answers to queries are kept by the data version (`answers`), sent with an ETag, and a client's
If-None-Match that names the current one is answered without a body.
"""

import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson
from graphql import GraphQLError
from graphql.language import OperationType as GraphQLOperationType
from starlette.requests import Request
from starlette.responses import Response
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from server.graph.compiled import Compiled
from server.graph.context import Context
from server.graph.reader import Reader
from store.keys import Caller

from . import answers, auth, metrics, origins
from .answers import Answer
from .refusals import BadRequest

log = logging.getLogger("alliance.http")

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


def _too_large(limit: int) -> BadRequest:
    return BadRequest(
        f"the request is larger than {limit} bytes", status=413, code="REQUEST_TOO_LARGE"
    )


def _media_type(request: Request) -> str:
    # A client that names no media type (no Accept, or `*/*`) may be one written before the new
    # one existed: it gets the one it surely reads (GraphQL over HTTP, "Legacy watershed").
    return GRAPHQL_RESPONSE if GRAPHQL_RESPONSE in request.headers.get("accept", "") else JSON


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
        for name in ("variables", "extensions"):
            if name in params:
                try:
                    params[name] = orjson.loads(params[name])
                except orjson.JSONDecodeError:
                    raise BadRequest(f"`{name}` is not valid JSON") from None
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
    for name in ("variables", "extensions"):  # a 0 or false is no more an object than a list
        if params.get(name) is not None and not isinstance(params[name], dict):
            raise BadRequest(f"`{name}` must be a JSON object")
    if params.get("operationName") is not None and not isinstance(params["operationName"], str):
        raise BadRequest("`operationName` must be a string")
    await request.app.state.persisted.resolve(params)  # a query sent by its hash
    if not isinstance(params.get("query"), str) or not params["query"].strip():
        raise BadRequest("`query` must be a non-empty string")
    return params


async def _caller(request: Request) -> Caller:
    try:
        return await auth.caller(request)
    except auth.Unauthenticated as exc:
        headers = {"www-authenticate": exc.challenge}
        raise BadRequest(str(exc), 401, headers, "UNAUTHENTICATED") from None


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


@dataclass
class _Answered:
    body: bytes
    status: int
    ok: bool  # without errors
    cache: str  # hit, miss or bypass (docs/operations.md, "Logs")
    headers: dict[str, str] = field(default_factory=dict)
    path: str = "none"  # what answered: compiled, resolvers, cache, or none (a refused request)
    keep: bool = False  # whether the answer cache may keep it


@dataclass
class _Executed:
    payload: dict[str, Any] | str  # a compiled answer is the `data` text the database built
    request_error: bool = False  # nothing was executed
    # It read what the data version does not follow (the operator API reads the sync's own
    # state): it is never kept. Known from the document once validated (`access`).
    live: bool = False


def _answered(executed: _Executed, media_type: str, cache: str) -> _Answered:
    payload, request_error = executed.payload, executed.request_error
    if isinstance(payload, str):
        body = b'{"data":' + payload.encode() + b"}"
        return _Answered(body, 200, True, cache, path="compiled", keep=True)
    if request_error and all(e["extensions"]["code"] == "FORBIDDEN" for e in payload["errors"]):
        status = 403  # the caller's key, not the request, is what falls short
    else:  # only the new media type may say 400 for a request that could not be executed
        status = 400 if request_error and media_type == GRAPHQL_RESPONSE else 200
    ok = "errors" not in payload
    keep = ok and not executed.live
    return _Answered(orjson.dumps(payload), status, ok, cache, path="resolvers", keep=keep)


async def graphql(request: Request) -> Response:
    started = time.perf_counter()
    request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
    media_type = _media_type(request)
    operation = None
    caller = auth.ANONYMOUS
    try:
        allowed = request.app.state.settings.cors_origins
        if origins.refused(request.headers.get("origin"), request.headers.get("host"), allowed):
            raise BadRequest("this origin may not call the API", 403, code="ORIGIN_NOT_ALLOWED")
        caller = await _caller(request)
        client = request.client.host if request.client else None
        wait = await request.app.state.rates.wait(caller, client)
        if wait is not None:
            raise BadRequest(
                f"over this caller's rate; try again in {wait} s",
                429,
                {"retry-after": str(wait)},
                "RATE_LIMITED",
            )
        params = await _params(request)
        operation = params.get("operationName")
        answered = await _answer(request, params, media_type, caller)
    except BadRequest as exc:
        payload = {"errors": [{"message": str(exc), "extensions": {"code": exc.code}}]}
        answered = _Answered(orjson.dumps(payload), exc.status, False, "bypass", exc.headers)
    elapsed = time.perf_counter() - started
    outcome = "ok" if answered.ok else "error"
    label = metrics.operation_label(operation)
    metrics.REQUESTS.labels(label, outcome).inc()
    metrics.LATENCY.labels(label).observe(elapsed)
    unchanged = answered.status in (304, 412)
    metrics.ANSWERS.labels("not_modified" if unchanged else answered.cache).inc()
    metrics.READ_PATH.labels(answered.path).inc()
    log.info(
        "graphql %s %s",
        operation or "-",
        outcome,
        extra={
            "request_id": request_id,
            "status": answered.status,
            "ms": round(elapsed * 1000, 2),
            "cache": answered.cache,
            "path": answered.path,
            "key": caller.name,
        },
    )
    headers = {"x-request-id": request_id, **answered.headers}
    if unchanged:  # no body, and so no media type
        return Response(status_code=answered.status, headers=headers)
    return Response(
        answered.body, status_code=answered.status, media_type=media_type, headers=headers
    )


async def _answer(
    request: Request, params: dict[str, Any], media_type: str, caller: Caller
) -> _Answered:
    """The answer from the cache when it holds it, else executed (and kept when it has no
    errors); a 304 (GET) or 412 (POST) when the client's If-None-Match names it."""
    state = request.app.state
    reader = Reader(state.engine)
    try:
        kind = state.schema.operation_type(params["query"], params.get("operationName"))
        if kind == GraphQLOperationType.SUBSCRIPTION and request.method == "GET":
            raise BadRequest(  # GraphQL over HTTP: a GET runs queries alone, 405 to the rest
                "only queries may be sent with GET; POST mutations, and subscribe over WebSocket",
                status=405,
                headers={"allow": "POST"},
            )
        if kind == GraphQLOperationType.SUBSCRIPTION:
            raise BadRequest(
                "subscriptions are served over WebSocket (graphql-transport-ws) at /graphql",
                code="WEBSOCKET_REQUIRED",
            )
        is_query = kind == GraphQLOperationType.QUERY
        version = await state.data_version.version(reader) if is_query else None
        if version is None:  # not a query, or the data version is not known: no cache
            return _answered(await _execute(request, params, reader, caller), media_type, "bypass")
        key = state.answers.key(params, media_type, caller.role)
        validators = {
            "etag": answers.etag(key, version),
            "cache-control": "no-cache",  # keep it, but ask again (If-None-Match) each time
            "vary": "Accept",  # the media type is chosen by it
        }
        if answers.matches(request.headers.get("if-none-match"), validators["etag"]):
            # RFC 9110, 13.1.2: a match is 304 to GET, and 412 to any other method.
            status = 304 if request.method == "GET" else 412
            return _Answered(b"", status, True, "hit", validators, "cache")
        kept = state.answers.get(key, version)
        if kept is not None:
            return _Answered(kept.body, kept.status, True, "hit", validators, "cache")
        answered = _answered(await _execute(request, params, reader, caller), media_type, "miss")
        if answered.keep:
            state.answers.keep(key, version, Answer(answered.body, answered.status))
            answered.headers |= validators
        return answered
    finally:
        await reader.close()


async def _execute(
    request: Request, params: dict[str, Any], reader: Reader, caller: Caller
) -> tuple[dict[str, Any] | str, bool]:
    """Run the operation; the flag tells a request error (nothing executed) from a result. A
    compiled answer comes back as the text of its `data`."""
    state = request.app.state
    allowed = {OperationType.QUERY} if request.method == "GET" else None
    try:
        plan = state.compiler.prepare(
            params["query"],
            params.get("operationName"),
            params.get("variables") or {},
            caller.role,
        )
        if isinstance(plan, Compiled):
            data = await state.compiler.run(plan, reader)
            if data is not None:
                return _Executed(data)
        context = Context(reader=reader, settings=state.settings, caller=caller)
        result = await state.schema.execute(
            params["query"],
            variable_values=params.get("variables"),
            operation_name=params.get("operationName"),
            context_value=context,
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
    errors = [_formatted(e) for e in result.errors or []]
    request_error = (
        result.data is None and bool(errors) and all(e.path is None for e in result.errors)
    )
    if request_error:
        return _Executed({"errors": errors}, request_error=True)
    payload: dict[str, Any] = {"data": result.data}
    if errors:
        payload["errors"] = errors
    return _Executed(payload, live=context.live)
