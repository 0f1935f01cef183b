"""Logging: one JSON object a line in production, readable lines on a terminal."""

import logging
import sys
import time

import orjson

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "thread": record.threadName,  # `alliance-sync` for the scheduler inside `serve`
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


# Libraries whose INFO lines say what the hub's own lines say better: APScheduler logs every job
# it runs and adds ("Running job ...", most of a quiet worker's lines), httpx every request.
QUIET = ("apscheduler", "httpx")


def setup(style: str = "auto", level: str = "info") -> None:
    """One handler for every logger, at `level`; the chatty libraries at WARNING unless `level`
    is `debug`."""
    if style == "auto":
        style = "console" if sys.stderr.isatty() else "json"
    handler = logging.StreamHandler()
    if style == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.DEBUG if level == "debug" else logging.WARNING)
