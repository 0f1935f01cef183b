"""The COPY floor's side of one load, run with the project's python: the feed's items,
streamed with ijson, each `(type, id, updated_at, data)` with `data` as jsonb, sent with one
asyncpg `copy_records_to_table` into a plain table `item` (no key, no index) of an empty
database. It is what loading the bytes costs, with nothing decided per item.

`python copy_child.py FEED POSTGRES_URL` prints one JSON line: the seconds of the COPY alone
(connecting and creating the table excluded), items, statements (the one COPY), and the
process's CPU and peak memory (`usage.py`). Needs asyncpg, ijson and orjson, nothing of
the project.
"""

import asyncio
import datetime as dt
import json
import sys
import time

import asyncpg
import ijson
import orjson
import usage  # beside this file

COLUMNS = ("type", "id", "updated_at", "data")


def records(feed: str, seen: list[int]):
    with open(feed, "rb") as stream:
        for item in ijson.items(stream, "items.item", use_float=True):
            seen[0] += 1
            yield (
                item["type"],
                item["id"],
                dt.datetime.fromisoformat(item["updated_at"]),
                orjson.dumps(item["data"]).decode(),
            )


async def load(feed: str, url: str) -> dict:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(
            "CREATE TABLE item (type text NOT NULL, id text NOT NULL, "
            "updated_at timestamptz NOT NULL, data jsonb NOT NULL)"
        )
        seen = [0]
        started = time.perf_counter()
        await connection.copy_records_to_table("item", records=records(feed, seen), columns=COLUMNS)
        seconds = time.perf_counter() - started
    finally:
        await connection.close()
    return {"seconds": seconds, "items": seen[0], "statements": 1, "ijson_backend": ijson.backend}


if __name__ == "__main__":
    result = asyncio.run(load(*sys.argv[1:3]))
    print(json.dumps(result | usage.figures()), flush=True)
