"""Puts the repository on `sys.path`, so a bench script run as `python bench/<script>.py` can
import the helpers it shares with the tests (`tests.processes`, `tests.synthetic`). Imported
first, for that effect alone; `store`, `sync` and `server` come from the venv's install."""

import sys
from pathlib import Path

REPO = str(Path(__file__).resolve().parent.parent)
if REPO not in sys.path:
    sys.path.insert(1, REPO)  # after bench/ itself, which Python put first
