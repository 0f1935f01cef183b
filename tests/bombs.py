"""Documents built to be expensive, shared by the limit tests in-process and over HTTP."""


def fragment_bomb(levels: int, bottom: str = "__typename") -> str:
    """`F0` spreads `F1` twice, `F1` spreads `F2` twice, ...: 2**levels spreads of `bottom`."""
    fragments = " ".join(
        f"fragment F{level} on Query {{ ...F{level + 1} ...F{level + 1} }}"
        for level in range(levels)
    )
    return f"query Bomb {{ ...F0 }} {fragments} fragment F{levels} on Query {{ {bottom} }}"
