"""The loopback feed server: serves one file at /feed.json with an ETag (its SHA-256) and
Last-Modified, and answers 304 to an If-None-Match naming that ETag (or, without
If-None-Match, to an equal If-Modified-Since).

Run as a script in a process of its own (`python feed_server.py FILE LOG`: it prints its port
and ETag, then serves until stopped), so its work is not counted in the bench's process;
`start` starts it and reads that line. The script part needs the standard library alone.
"""

import email.utils
import hashlib
import http.server
import os
import shutil
import subprocess
import sys
from pathlib import Path

FEED_PATH = "/feed.json"


def etag_of(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return f'"{digest.hexdigest()[:32]}"'


def handler(path: str, log_path: str) -> type[http.server.BaseHTTPRequestHandler]:
    etag = etag_of(path)
    last_modified = email.utils.formatdate(os.stat(path).st_mtime, usegmt=True)
    size = os.path.getsize(path)
    log = open(log_path, "a", buffering=1)  # open while the server runs

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            if self.path.split("?", 1)[0] != FEED_PATH:
                self.send_error(404)
                return
            inm, ims = self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since")
            fresh = (
                inm is not None
                and (inm.strip() == "*" or etag in [t.strip() for t in inm.split(",")])
            ) or (inm is None and ims == last_modified)
            self.send_response(304 if fresh else 200)
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", last_modified)
            if fresh:
                self.end_headers()
                return
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            with open(path, "rb") as f:
                shutil.copyfileobj(f, self.wfile, 1 << 20)

        def log_message(self, fmt, *args):
            log.write(f"{fmt % args} {self.headers.get('If-None-Match') or '-'}\n")

    Handler.etag = etag
    return Handler


def serve(path: str, log_path: str) -> None:
    chosen = handler(path, log_path)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), chosen)
    print(server.server_address[1], chosen.etag, flush=True)
    server.serve_forever()


def start(folder: Path, feed: Path) -> tuple[subprocess.Popen, str, str]:
    """Starts the server on `feed`: the process, the feed's URL and its ETag."""
    # Imported here: this file also runs as the server script, without the bench on its path.
    from sync_bench import watch

    process = watch.spawn(
        [sys.executable, __file__, str(feed), str(folder / "server.log")], stdout=subprocess.PIPE
    )
    line = process.stdout.readline().split()
    if len(line) != 2:
        watch.stop(process)
        raise SystemExit("the feed server did not start")
    return process, f"http://127.0.0.1:{line[0]}{FEED_PATH}", line[1]


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2])
