"""PostGraphile 5, the peer the hub's reads are measured beside: installed from the npm registry
into the git-ignored `bench/.peers/postgraphile/`, run on the bench database as its own process.

The 5.0.0-rc.3 family is the last whose packages declare `node >= 16`; 5.1.x needs Node 22
(`Promise.withResolvers`). Its packages ask for each other with `^` ranges, which would resolve
to 5.1.x, so every one is pinned exactly with npm `overrides`. Nothing here touches the
project's own dependencies. See bench/README.md, "reads.py".
"""

import asyncio
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import httpx

from read_bench import meter
from tests import processes

BENCH = Path(__file__).resolve().parents[1]
HOME = BENCH / ".peers" / "postgraphile"
CLI = HOME / "node_modules" / "postgraphile" / "dist" / "cli-run.js"
CONFIG = HOME / "graphile.config.mjs"
INSTALL_TIMEOUT = 600.0
READY_TIMEOUT = 60.0

POSTGRAPHILE = "5.0.0-rc.3"
PINS = {
    "postgraphile": POSTGRAPHILE,
    "grafast": "1.0.0-rc.3",
    "grafserv": "1.0.0-rc.3",
    "ruru": "2.0.0-rc.3",
    "@dataplan/json": "1.0.0-rc.2",
    "@dataplan/pg": "1.0.0-rc.2",
    "@graphile/lru": "5.0.0-rc.2",
    "graphile-build": "5.0.0-rc.2",
    "graphile-build-pg": "5.0.0-rc.2",
    "graphile-config": "1.0.0-rc.2",
    "graphile-utils": "5.0.0-rc.2",
    "pg-introspection": "1.0.0-rc.2",
    "pg-sql2": "5.0.0-rc.2",
    "tamedevil": "0.1.0-rc.2",
    "graphql": "16.11.0",
    "pg": "8.16.3",
}
MANIFEST = {
    "name": "alliance-bench-postgraphile",
    "private": True,
    "description": "PostGraphile for bench/reads.py; written by bench/read_bench/peer.py",
    "dependencies": {"postgraphile": POSTGRAPHILE},
    "overrides": PINS,
}

# The amber preset as it is, except that columns without an index may be filtered and ordered
# by: PgIndexBehaviorsPlugin hides them, and the filtered query orders by population, which the
# hub's schema has no index for either.
CONFIG_TEXT = """\
// Written by bench/read_bench/peer.py.
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";

export default {
  extends: [PostGraphileAmberPreset],
  disablePlugins: ["PgIndexBehaviorsPlugin"],
};
"""


def installed_versions() -> dict[str, str | None]:
    versions = {}
    for name in PINS:
        manifest = HOME / "node_modules" / name / "package.json"
        try:
            versions[name] = json.loads(manifest.read_text())["version"]
        except (OSError, ValueError, KeyError):
            versions[name] = None
    return versions


def node_version() -> str:
    node = shutil.which("node")
    if node is None or shutil.which("npm") is None:
        raise SystemExit("PostGraphile needs Node.js and npm on the PATH (Node 16 to 20)")
    return subprocess.run(
        [node, "--version"], capture_output=True, text=True, timeout=30
    ).stdout.strip()


def install() -> dict:
    """Installs the pinned packages unless they are already there; what is installed."""
    node = node_version()
    manifest = json.dumps(MANIFEST, indent=2) + "\n"
    package_json = HOME / "package.json"
    current = package_json.exists() and package_json.read_text() == manifest
    if not (current and installed_versions() == PINS):
        HOME.mkdir(parents=True, exist_ok=True)
        package_json.write_text(manifest)
        print(f"installing PostGraphile {POSTGRAPHILE} into {HOME.relative_to(BENCH.parent)} …")
        started = time.perf_counter()
        try:
            run = subprocess.run(
                ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=HOME,
                capture_output=True,
                text=True,
                timeout=INSTALL_TIMEOUT,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            raise SystemExit(f"npm install took over {INSTALL_TIMEOUT:.0f} s") from None
        if run.returncode != 0:
            raise SystemExit(f"npm install failed:\n{run.stdout[-2000:]}{run.stderr[-2000:]}")
        print(f"  installed in {time.perf_counter() - started:.0f} s")
        if (found := installed_versions()) != PINS:
            wrong = {name: v for name, v in found.items() if v != PINS[name]}
            raise SystemExit(f"npm installed other versions than pinned: {wrong}")
    CONFIG.write_text(CONFIG_TEXT)
    return {"node": node, "packages": PINS}


# Answers only when the schema was built from a reachable database: a wrong URL still listens.
PROBE = json.dumps({"query": "{ allMembers(first: 1) { nodes { rowId } } }"})


async def _wait_ready(peer: processes.HubProcess, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    async with httpx.AsyncClient(base_url=peer.base_url, timeout=5.0, trust_env=False) as client:
        while time.monotonic() < deadline:
            if not peer.alive():
                raise processes.ProcessError(
                    f"PostGraphile exited with {peer.process.returncode}; its log:\n{peer.log()}"
                )
            try:
                answer = await client.post(
                    "/graphql", content=PROBE, headers={"content-type": "application/json"}
                )
                if answer.status_code == 200 and "errors" not in answer.json():
                    return
                last = f"{answer.status_code}: {answer.text[:300]}"
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc}"
            await asyncio.sleep(0.2)
    peer.stop()
    raise processes.ProcessError(
        f"PostGraphile did not answer a query within {timeout:.0f} s ({last}); "
        f"its log:\n{peer.log()}"
    )


async def serve(url: str, log_path: Path) -> processes.HubProcess:
    """`postgraphile` with the amber preset on `url`, schema `public`, on a free loopback port;
    returns once a real query has been answered."""
    port = processes.free_port()
    command = [
        shutil.which("node"),
        str(CLI),
        "-C",
        str(CONFIG),
        "-c",
        meter.libpq_url(url),
        "-s",
        "public",
        "-n",
        "127.0.0.1",
        "-p",
        str(port),
    ]
    env = {**os.environ, "GRAPHILE_ENV": "production", "NODE_ENV": "production"}
    started = processes.start(command, env=env, cwd=HOME, log_path=log_path, session=True)
    # A started process and its address, as the hub's: stopped the same way, by its pid.
    peer = processes.HubProcess(started.process, log_path, f"http://127.0.0.1:{port}")
    await _wait_ready(peer, READY_TIMEOUT)
    return peer
