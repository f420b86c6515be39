"""The computed verdicts of a derivation's document claims, for the model test files."""

from functools import cache

from symdl import check
from symdl.prose import plain
from symdl.sources import load_derivation


@cache
def rows(name):
    """statement -> check.Row for every claim of derivation NAME, evaluated once per session;
    the statement as a terminal prints it (its $…$ marks dropped: symdl.prose.plain)."""
    derivation = load_derivation(name)
    return {plain(claim.statement): check.evaluate_claim(name, claim) for claim in derivation.claims}


def verdicts(name):
    """statement -> "agrees" / "disagrees" for every claim of NAME."""
    return {statement: row.verdict for statement, row in rows(name).items()}


def verdict_of(name, words):
    """The verdict of the one claim of NAME whose statement contains `words`."""
    found = [row for statement, row in rows(name).items() if words in statement]
    assert len(found) == 1, f"{name}: {len(found)} claims mention {words!r}"
    assert found[0].verdict not in ("ERROR", "FAILS"), found[0].evidence
    return found[0].verdict
