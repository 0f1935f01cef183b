"""Multilingual names: deriving the sortable and searchable forms, and the fallback chain."""

import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

_KIND_PREFERENCE = {"official": 0, "short": 1, "transliteration": 2, "alias": 3, "former": 4}


class _Marks(dict):
    """`str.translate`'s table deleting combining marks, filled as characters are met."""

    def __missing__(self, code: int) -> int | None:
        kept = self[code] = None if unicodedata.combining(chr(code)) else code
        return kept


_MARKS = _Marks()


def fold(text: str) -> str:
    """Lowercase without diacritics, so "Köln" is found by "koln" and sorts beside "Koblenz"."""
    if text.isascii():  # NFKD leaves ASCII as it is, and casefold is lower there
        return text.lower()
    # Folded again after NFKD, which can make capitals of compatibility forms (𝐁 → B).
    return unicodedata.normalize("NFKD", text.casefold()).casefold().translate(_MARKS)


def search_text(names: Iterable[Mapping[str, str]], *extra: str | None) -> str:
    """Every name in every language, folded, one per line (searched with LIKE)."""
    values = [n["value"] for n in names] + [e for e in extra if e]
    return "\n".join(dict.fromkeys(fold(v) for v in values))


def columns(
    given: list[dict[str, str]],
    default_lang: str,
    name: str | None = None,
    sort_name: str | None = None,
) -> dict[str, Any]:
    """The name columns of a named record: its display name, every name, and the sortable
    and searchable forms derived from them. Without names, `name` becomes the official one."""
    if not given and name:
        given = [{"value": name, "lang": default_lang, "kind": "official"}]
    display = name or resolve(given, None, default_lang) or ""
    return {
        "name": display,
        "names": given,
        "default_lang": default_lang,
        "sort_key": fold(sort_name or display),
        "search_text": search_text(given, display),
    }


def _lang_candidates(lang: str) -> list[str]:
    """RFC 4647 lookup: `zh-Hans-CN`, then `zh-Hans`, then `zh`."""
    parts = lang.split("-")
    return ["-".join(parts[:i]) for i in range(len(parts), 0, -1)]


def _best_in(names: list[Mapping[str, str]], lang: str) -> str | None:
    """The most preferred kind of name in `lang` exactly, else in a subtag of it (`zh` finds
    `zh-Hans`), trying `lang`'s shorter forms in turn; the first of equal kinds."""
    tags = [n.get("lang", "").lower() for n in names]
    for candidate in _lang_candidates(lang.lower()):
        below = candidate + "-"
        best = None  # ((0 exact or 1 a subtag, preference), value)
        for tag, n in zip(tags, names, strict=True):
            if tag != candidate and not tag.startswith(below):
                continue
            key = (tag != candidate, _KIND_PREFERENCE.get(n.get("kind", ""), 9))
            if best is None or key < best[0]:
                best = (key, n["value"])
        if best is not None:
            return best[1]
    return None


def resolve(names: list[Mapping[str, str]], lang: str | None, default_lang: str) -> str | None:
    """The name to show: in `lang`, else the record's own language, else English, else any.

    Former names are used only when nothing else is known.
    """
    current = [n for n in names if n.get("kind") != "former"] or names
    for candidate in (lang, default_lang, "en"):
        if candidate:
            found = _best_in(current, candidate)
            if found is not None:
                return found
    return current[0]["value"] if current else None
