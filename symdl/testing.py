"""Keep your own derivations under test the way symdl keeps the documents' models.

In a test file of your project::

    from symdl.testing import derivation_tests

    test_my_models = derivation_tests("models")      # a folder beside this test file

`pytest` then runs, for every derivation file in `models/`, one test per check, with ids such
as `test_my_models[tanh_unit-three-way]`:

* `loads`       the file imports and defines a derivation (a broken file fails only this);
* `fresh`       `generated/NAME.py` is what the derivation and the installed symdl generate
                now — a changed derivation or a new symdl fails here until `symdl generate`;
* `three-way`   the generated loss and gradient against SymPy's diff of the loss written out
                element by element, and SymPy's gradient against finite differences;
* `stable`      the kernels stay finite with parameters of size 1000;
* `scale`       the loss and gradient against a 50-digit reference with the targets offset
                to 1e8, the features scaled by 2^±20 and exponentials at their overflow
                edge (symdl.scale);
* `closed-form` gradient descent on the built-in data ends at the closed form (models that
                have one; a model without built-in data: ∇J = 0 there, on random data);
* `claims`      every claim evaluates (a disagreement with a document is a finding, not a
                failure; a claim that raises is a bug).

symdl's own test suite runs the built-in models through the same function
(`derivation_tests()` with no folder: tests/test_check.py).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pytest

from symdl import kernels, sources
from symdl.sources import Source

STABILITY = "finite with parameters of size 1000"
SCALE = "exact at scale: targets offset 1e4–1e8, features ×2^±20, exponentials at the edge"
CLOSED_FORM = "gradient descent reaches the closed form"
CLOSED_FORMS = (CLOSED_FORM, "the closed form is a stationary point of J")  # check.STATIONARY


@dataclass(frozen=True)
class Case:
    """One check of one derivation: what a single test id runs."""

    source: Source
    check: str

    @property
    def id(self) -> str:
        return f"{self.source.name}-{self.check}"

    def run(self):
        getattr(self, "_" + self.check.replace("-", "_"))()

    def _loads(self):
        sources.load_derivation(self.source)

    def _fresh(self):
        from symdl.generate import files
        problems = files.stale([self.source])
        if problems:
            hint = "symdl generate" if self.source.builtin else f"symdl generate {self.source.path}"
            pytest.fail(f"{'; '.join(problems)}: run `{hint}`", pytrace=False)

    def _three_way(self):
        rows = [r for r in _model_rows(self.source)
                if r.claim not in (STABILITY, SCALE, *CLOSED_FORMS)]
        _require_passes(rows)

    def _stable(self):
        _require_passes([r for r in _model_rows(self.source) if r.claim == STABILITY])

    def _scale(self):
        _require_passes([r for r in _model_rows(self.source) if r.claim == SCALE])

    def _closed_form(self):
        _require_passes([r for r in _model_rows(self.source) if r.claim in CLOSED_FORMS])

    def _claims(self):
        from symdl import check
        derivation = sources.load_derivation(self.source)
        rows = [check.evaluate_claim(derivation.name, claim) for claim in derivation.claims]
        _require_passes(rows)


@lru_cache(maxsize=None)
def _model_rows(source: Source):
    """check.check_model's rows for one model, computed once for all of its test ids."""
    from symdl import check
    return tuple(check.check_model(sources.load_derivation(source)))


def _require_passes(rows):
    failures = [f"{r.claim}: {r.verdict} ({r.evidence})" for r in rows if r.is_failure]
    if failures:
        pytest.fail("\n".join(failures), pytrace=False)


def cases(*refs, base: Path | None = None) -> list[Case]:
    """The checks that apply to each derivation named (files, folders, built-in names)."""
    from symdl.model import Model
    located = [base / ref if base is not None and (base / str(ref)).exists() else ref
               for ref in refs]
    found = []
    for source in sources.resolve_many(located):
        try:
            derivation = sources.load_derivation(source)
        except Exception:  # reported by the `loads` test, so other models still run
            found.append(Case(source, "loads"))
            continue
        checks = ["loads"]
        if isinstance(derivation, Model):
            checks += ["fresh", "three-way", "stable", "scale"]
            if _has_closed_form(source):
                checks.append("closed-form")
        if derivation.claims:
            checks.append("claims")
        found += [Case(source, check) for check in checks]
    return found


def _has_closed_form(source: Source) -> bool:
    try:
        spec = kernels.load(source).SPEC
    except Exception:  # no kernels yet: `fresh` fails and says how to make them
        return False
    return bool(spec["closed_form"] and (spec["training"] or spec["features"]))


def derivation_tests(*refs):
    """A pytest test function running every check of every derivation named.

    Folders and files are found relative to the calling test file, so `pytest` works from
    any directory; no argument means symdl's built-in models.
    """
    base = Path(inspect.stack()[1].filename).resolve().parent
    collected = cases(*refs, base=base)

    @pytest.mark.parametrize("case", collected, ids=[c.id for c in collected])
    def test_derivation(case: Case):
        case.run()

    return test_derivation
