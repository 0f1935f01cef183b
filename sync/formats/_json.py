"""Reading a JSON feed as a stream of ijson events, and saying exactly where it is broken.

yajl, ijson's C parser, reports what is wrong but not where. When a parse fails, `located`
reads the stream again from the start: whole chunks up to shortly before the point the parser
had reached, then byte by byte, feeding both a UTF-8 decoder and a fresh parser, so the first
byte either of them refuses is the place. That costs a second read, but only on the way to a
failed run.
"""

import codecs
from collections.abc import Iterator
from typing import Any, BinaryIO

import ijson

from ..errors import FeedFormatError

BUF_SIZE = 64 * 1024
Event = tuple[str, str, Any]

_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF8, "UTF-8"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)
_STARTS = {"start_map", "start_array"}
_ENDS = {"end_map", "end_array"}
_KINDS = {
    "start_map": "an object",
    "start_array": "an array",
    "string": "a string",
    "number": "a number",
    "boolean": "a boolean",
    "null": "null",
}
# every byte value that is not a UTF-8 continuation byte (0x80-0xBF): deleting them counts
# the continuation bytes, so a byte count becomes a character count
_NOT_CONTINUATION = bytes(b for b in range(256) if not 0x80 <= b <= 0xBF)


def skip_bom(stream: BinaryIO, *, allow_utf8_bom: bool) -> int:
    """Position `stream` at the start of its JSON text and return that offset.

    A UTF-16 or UTF-32 byte order mark is always refused (the body is not UTF-8); a UTF-8 one
    is skipped when `allow_utf8_bom`, else refused: RFC 8259 forbids it in JSON.
    """
    stream.seek(0)
    head = stream.read(4)
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            if encoding == "UTF-8" and allow_utf8_bom:
                stream.seek(len(bom))
                return len(bom)
            if encoding == "UTF-8":
                raise FeedFormatError(
                    "byte 0: the body starts with a UTF-8 byte order mark (EF BB BF); "
                    "remove the byte order mark: JSON must not have one"
                )
            raise FeedFormatError(
                f"byte 0: the body starts with a {encoding} byte order mark; "
                "the feed must be encoded as UTF-8"
            )
    stream.seek(0)
    return 0


def prescan(stream: BinaryIO, start: int) -> None:
    """Check that the JSON text from `start` is UTF-8, well-formed and complete, reading it
    once with ijson's C parser and building nothing; raise FeedFormatError where it is not.

    Streaming parsers meet a truncation only at the end, after the items before it were
    yielded and maybe applied; this pass makes sure they never are. It costs about an eighth
    of the streaming pass that follows.
    """
    sink = ijson.utils.sendable_list()
    parser = ijson.basic_parse_coro(sink)
    try:
        while chunk := stream.read(BUF_SIZE):
            parser.send(chunk)
            sink.clear()
        parser.close()
    except ijson.JSONError as exc:
        raise located(stream, exc, start) from None
    stream.seek(start)


def events(stream: BinaryIO) -> Iterator[Event]:
    """ijson's `(prefix, event, value)` events from the current position, numbers as float/int."""
    return ijson.parse(stream, buf_size=BUF_SIZE, use_float=True)


def object_events(stream: BinaryIO) -> Iterator[Event]:
    """Events of a document that must be a JSON object, after its opening brace."""
    found = events(stream)
    _, event, _ = next(found)
    if event != "start_map":
        raise FeedFormatError(f"top level: expected a JSON object, found {kind(event)}")
    return found


def kind(event: str) -> str:
    """What a start or scalar event says the value is, for messages: 'an array', 'a string'."""
    return _KINDS.get(event, event)


def kind_of(value: Any) -> str:
    """What a built JSON value is, for messages: 'an array', 'a string'."""
    for python_type, event in (
        (dict, "start_map"),
        (list, "start_array"),
        (str, "string"),
        (bool, "boolean"),
        (int | float, "number"),
    ):
        if isinstance(value, python_type):
            return _KINDS[event]
    return "null"


def value(events: Iterator[Event], first: Event) -> Any:
    """The whole value that starts with `first`, built from the following events."""
    _, event, scalar = first
    if event not in _STARTS:
        return scalar
    builder = ijson.ObjectBuilder()
    builder.event(event, scalar)
    depth = 1
    for _, event, scalar in events:
        builder.event(event, scalar)
        if event in _STARTS:
            depth += 1
        elif event in _ENDS:
            depth -= 1
            if depth == 0:
                break
    return builder.value


def located(stream: BinaryIO, error: Exception, start: int) -> FeedFormatError:
    """A FeedFormatError for ijson's `error`, naming the byte, line and column where the text
    stops being UTF-8 or JSON. `start` is where the JSON text began (after a skipped BOM)."""
    reached = stream.tell()
    problem, offset, detail = _find(stream, start, max(start, reached - 2 * BUF_SIZE))
    if problem == "unknown":  # the second reading did not fail: say what ijson said
        return FeedFormatError(f"malformed JSON before byte {reached}: {_first_line(error)}")
    line, column = _line_column(stream, offset)
    place = f"byte {offset} (line {line}, column {column})"
    if problem == "encoding":
        return FeedFormatError(
            f"not UTF-8 at {place}: {detail}; the feed must be encoded as UTF-8 "
            "(was it saved as Latin-1 or Windows-1252?)"
        )
    if problem == "truncated":
        return FeedFormatError(
            f"truncated JSON: the body ends at {place} before the document is complete"
        )
    near = _near(stream, offset)
    return FeedFormatError(f"malformed JSON at {place}: {_first_line(error)}, near {near!r}")


def _find(stream: BinaryIO, start: int, hint: int) -> tuple[str, int, str]:
    """('encoding' | 'syntax' | 'truncated' | 'unknown', byte offset, detail)."""
    stream.seek(start)
    decoder = codecs.getincrementaldecoder("utf-8")()
    sink = ijson.utils.sendable_list()
    parser = ijson.basic_parse_coro(sink)
    position = start
    while chunk := stream.read(BUF_SIZE):
        bad_byte, reason = _undecodable(decoder, chunk, position)
        if bad_byte is None and position + len(chunk) <= hint:
            try:
                parser.send(chunk)
            except ijson.JSONError:
                return _find(stream, start, position)  # the hint was too late: look closer
            sink.clear()
        else:
            stop = len(chunk) if bad_byte is None else bad_byte - position
            for index in range(stop):
                try:
                    parser.send(chunk[index : index + 1])
                except ijson.JSONError as exc:
                    return "syntax", position + index, _first_line(exc)
                sink.clear()
            if bad_byte is not None:
                return "encoding", bad_byte, reason
        position += len(chunk)
    try:
        parser.close()
    except ijson.JSONError:
        return "truncated", position, ""
    return "unknown", position, ""


def _undecodable(decoder, chunk: bytes, position: int) -> tuple[int | None, str]:
    """The offset of the first byte in `chunk` that is not UTF-8, and why; (None, '') if none."""
    pending = len(decoder.getstate()[0])
    try:
        decoder.decode(chunk)
        return None, ""
    except UnicodeDecodeError as exc:
        offset = position - pending + exc.start
        return offset, f"byte 0x{exc.object[exc.start]:02X} cannot be decoded ({exc.reason})"


def _line_column(stream: BinaryIO, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of byte `offset`."""
    stream.seek(0)
    line, column, position = 1, 1, 0
    while position < offset and (chunk := stream.read(min(BUF_SIZE, offset - position))):
        position += len(chunk)
        newlines = chunk.count(b"\n")
        if newlines:
            line += newlines
            chunk = chunk[chunk.rindex(b"\n") + 1 :]
            column = 1
        continuation_bytes = len(chunk.translate(None, _NOT_CONTINUATION))
        column += len(chunk) - continuation_bytes
    return line, column


def _near(stream: BinaryIO, offset: int, width: int = 24) -> str:
    stream.seek(max(0, offset - width))
    around = stream.read(offset - max(0, offset - width) + width)
    return " ".join(around.decode("utf-8", "replace").split())


def _first_line(error: Exception) -> str:
    text = str(error)
    if text.startswith(("b'", 'b"')):  # yajl2_c gives some messages as a bytes repr
        text = text[2:-1].encode().decode("unicode_escape", "replace")
    return text.strip().splitlines()[0] if text.strip() else type(error).__name__


def items_builder(target, prefix: str):
    """ijson's coroutine (C when available) that builds the values under `prefix` from the
    events sent to it and appends each finished one to `target`."""
    return ijson.get_backend(ijson.backend_name).items_basecoro(target, prefix)
