"""`--profile`: py-spy (not a project dependency) samples each hub sync process at 100 Hz into
a raw stack file under bench/results/, and `print_profile` sums it up: own time by function and
by package, and the project's functions by inclusive time."""

import subprocess
import sys
from collections import Counter
from pathlib import Path

from sync_bench import RESULTS, ROOT, watch

PY_SPY = Path(sys.executable).parent / "py-spy"


def profile_path(database: str, case: str, run: int) -> Path:
    return RESULTS / f"sync_large-profile-{database}-{case.split()[0]}-{run}.txt"


def start_py_spy(pid: int, path: Path) -> subprocess.Popen:
    return watch.spawn(
        [
            str(PY_SPY),
            "record",
            "--pid",
            str(pid),
            "--rate",
            "100",
            "--format",
            "raw",
            "--nolineno",
            "--output",
            str(path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def print_profile(path: Path, top: int = 15) -> None:
    """Own time by function and by package from py-spy's raw output (`stack;...;leaf count`)."""
    if not path.exists():
        print(f"no profile at {path}")
        return
    own: Counter[str] = Counter()
    by_package: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        frames = stack.split(";")
        own[frames[-1]] += int(count)
        by_package[package_of(frames[-1])] += int(count)
        for frame in set(frames):
            if "(sync/" in frame or "(store/" in frame:
                inclusive[frame] += int(count)
    samples = sum(own.values()) or 1
    # SQLAlchemy runs each statement in a greenlet; py-spy shows its stack without the frames
    # that awaited it, so project functions' inclusive shares leave that part out.
    in_greenlets = sum(
        int(line.rpartition(" ")[2])
        for line in path.read_text().splitlines()
        if line.startswith("Connection.execute (sqlalchemy/engine/base.py)")
    )
    print(f" py-spy, {samples} busy samples at 100 Hz ({path.relative_to(ROOT)})")
    print("top by own time:")
    for frame, count in own.most_common(top):
        print(f"  {100 * count / samples:5.1f}%  {frame}")
    print("own time by package:")
    for package, count in by_package.most_common(10):
        print(f"  {100 * count / samples:5.1f}%  {package}")
    print(
        f"project functions by inclusive time (not counting the {100 * in_greenlets / samples:.0f}%"
        " of samples inside SQLAlchemy's greenlets, whose callers py-spy cannot see):"
    )
    for frame, count in inclusive.most_common(top):
        print(f"  {100 * count / samples:5.1f}%  {frame}")


def package_of(frame: str) -> str:
    path = frame.rpartition("(")[2].rstrip(")")
    parts = path.split("/")
    if len(parts) == 1:
        return path
    package = "/".join(parts[:2]) if len(parts) > 2 else parts[0]
    return f"{package} (project)" if parts[0] in ("server", "store", "sync") else package
