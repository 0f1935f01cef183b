"""The dlt peer's side of one load, run with the python of dlt's own venv
(`bench/.peers/dlt/`, made by `peers.py`): nothing of the project or the bench is importable
there, so this script needs the standard library, dlt and ijson alone.

`python dlt_child.py FEED POSTGRES_URL PIPELINES_DIR` loads the feed's items, streamed with
ijson, into the dataset `feed` of that database with `write_disposition="merge"` on
`primary_key=("type", "id")` (dlt's defaults otherwise: `data` normalised into child tables,
`insert_values` files, the delete-insert merge). Run again with the same folder, it is the
re-sync of the same feed. Prints one JSON line: the seconds of `pipeline.run` alone (imports
excluded), items, the process's CPU and peak memory (`usage.py`), and the rows dlt wrote per
table.
"""

import json
import sys
import time

import usage  # beside this file


def load(feed: str, url: str, pipelines_dir: str) -> dict:
    import dlt
    import ijson

    seen = [0]

    @dlt.resource(name="items", write_disposition="merge", primary_key=("type", "id"))
    def items():
        with open(feed, "rb") as stream:
            for item in ijson.items(stream, "items.item", use_float=True):
                seen[0] += 1
                yield item

    pipeline = dlt.pipeline(
        pipeline_name="alliance_feed",
        destination=dlt.destinations.postgres(credentials=url),
        dataset_name="feed",
        pipelines_dir=pipelines_dir,
    )
    started = time.perf_counter()
    info = pipeline.run(items())
    seconds = time.perf_counter() - started
    info.raise_on_failed_jobs()
    try:
        row_counts = dict(pipeline.last_trace.last_normalize_info.row_counts)
    except AttributeError:
        row_counts = None
    return {
        "seconds": seconds,
        "items": seen[0],
        "rows_written": row_counts,
        "dlt": dlt.__version__,
        "ijson_backend": ijson.backend,
    }


if __name__ == "__main__":
    result = load(*sys.argv[1:4])
    print(json.dumps(result | usage.figures()), flush=True)
