"""Small English helpers for user-facing text: counted nouns and indefinite articles."""

from __future__ import annotations


def plural(n: int, noun: str, many: str | None = None) -> str:
    """`1 warning`, `0 warnings`, `2 warnings`; `many` gives an irregular plural (`1 child`, `2 children`)."""
    if n == 1:
        return f"{n} {noun}"
    if many is None:
        many = f"{noun}es" if noun.endswith(("s", "sh", "ch", "x")) else f"{noun}s"
    return f"{n} {many}"


def article(noun: str) -> str:
    """`an approval`, `a consent`, `a revocation` (by the first letter; good enough for our vocabulary)."""
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"
