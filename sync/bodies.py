"""A feed's response body, decoded here and not by httpx, within the feed's size limit.

httpx inflates each network read in one piece, so one 64 KiB read of a gzip bomb becomes
~64 MiB in memory before anyone can count it. Here zlib's `max_length` bounds every decoded
piece to 64 KiB, each is counted before it is written, and the body is spooled to a temp file
past 1 MiB (docs/feeds.md, "What a run guarantees"). Only gzip and deflate are asked for, and
accepted; the limit counts decoded bytes.
"""

import tempfile
import zlib
from collections.abc import Iterator
from typing import BinaryIO

from .errors import FetchError, TooLarge

ACCEPT_ENCODING = "gzip, deflate"
_SPOOL_BYTES = 1024 * 1024  # a body stays in memory up to this size, then goes to disk
_PIECE_BYTES = 64 * 1024  # the largest decoded piece ever held at once
_CODINGS = {"gzip", "x-gzip", "deflate"}  # all inflated by zlib; wbits 47 reads gzip or zlib


class Body:
    """One body being written as its raw bytes arrive: `write` each, then `done`.

    `shown` names the URL in messages; `bytes` counts what was decoded so far."""

    def __init__(
        self,
        shown: str,
        max_bytes: int,
        content_encoding: str | None = None,
        content_length: str | None = None,
    ):
        self._shown, self._max = shown, max_bytes
        self._inflater = _inflater(content_encoding, shown)
        declared = content_length or ""
        if self._inflater is None and declared.isdigit() and int(declared) > max_bytes:
            raise TooLarge(f"{shown}: Content-Length {declared} is over {max_bytes} bytes")
        self.bytes = 0
        self._file = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)

    def write(self, raw: bytes) -> None:
        """Decode `raw`, count it and keep it; raise TooLarge past the limit."""
        for piece in self._inflate(raw) if self._inflater else (raw,):
            self.bytes += len(piece)
            if self.bytes > self._max:
                raise TooLarge(
                    f"{self._shown}: the body passed the limit of {self._max} bytes "
                    "(counted decoded)"
                )
            self._file.write(piece)

    def done(self) -> BinaryIO:
        """The whole body, a readable file at 0 that the caller closes."""
        if self._inflater and not self._inflater.eof:
            raise FetchError(f"{self._shown}: the compressed body ends before its end (truncated)")
        self._file.seek(0)
        return self._file  # type: ignore[return-value]  # SpooledTemporaryFile reads bytes

    def close(self) -> None:
        self._file.close()

    def _inflate(self, data: bytes) -> Iterator[bytes]:
        """The decoded pieces of `data`, none longer than _PIECE_BYTES."""
        try:
            while True:
                piece = self._inflater.decompress(data, _PIECE_BYTES)
                if piece:
                    yield piece
                data = self._inflater.unconsumed_tail
                if not data and len(piece) < _PIECE_BYTES:  # a full piece may have more behind
                    return
        except zlib.error as error:
            raise FetchError(f"{self._shown}: the body does not decode ({error})") from None


def _inflater(content_encoding: str | None, shown: str):  # a zlib decompressobj or None
    codings = [c.strip().lower() for c in (content_encoding or "").split(",") if c.strip()]
    codings = [c for c in codings if c != "identity"]
    if not codings:
        return None
    if len(codings) == 1 and codings[0] in _CODINGS:
        return zlib.decompressobj(wbits=47)
    raise FetchError(
        f"{shown}: unsupported Content-Encoding {content_encoding!r} "
        "(only gzip and deflate are accepted)"
    )
