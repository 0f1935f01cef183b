"""The parts of `bench/reads.py`: the peer (PostGraphile), the queries in both dialects, one
measured window, and what a window cost (CPU from /proc, statements on the wire)."""
