"""Every derivation, three ways: symbolic vs finite differences vs the generated kernel.

`symdl check` runs the same rows; here each derivation and check is its own test (through
symdl.testing, the same plugin users run on their own models) so a failure names both.
Document claims must evaluate (a claim that raises is a bug); their verdicts are findings.
"""

import pytest

from symdl import check
from symdl.model import Model
from symdl.sources import builtin_names, load_derivation
from symdl.testing import derivation_tests

test_builtin_models = derivation_tests()  # the plugin users run on their own models


@pytest.mark.parametrize("name", builtin_names())
def test_every_derivation_cites_a_document(name):
    derivation = load_derivation(name)
    assert any(seed in derivation.source for seed in ("000_", "001_", "002_", "003_", "004_"))
    for claim in derivation.claims:
        assert any(seed in claim.source for seed in ("000_", "001_", "002_", "003_", "004_"))


def test_every_model_is_checked_three_ways():
    models = [n for n in builtin_names() if isinstance(load_derivation(n), Model)]
    assert models
    for name in models:
        claims = {r.claim for r in check.check_model(load_derivation(name))}
        assert {"generated gradient = SymPy diff of substituted loss",
                "SymPy gradient = finite differences",
                "generated loss = substituted loss"} <= claims


def test_a_wrong_kernel_is_caught(monkeypatch):
    """The check is not a formality: a kernel whose gradient is off by 1e-6 fails it."""
    derivation = load_derivation("logistic_regression")
    problem = check.SampleProblem(derivation)
    real = problem.kernel

    def skewed(flat, tier="numba"):
        loss, gradient = real(flat, tier)
        return loss, gradient * (1 + 1e-6)

    monkeypatch.setattr(check.SampleProblem, "kernel", lambda self, flat, tier="numba": skewed(flat, tier))
    rows = check.check_model(derivation)
    assert any(r.is_failure for r in rows)
    tier_row = next(r for r in rows if r.claim.startswith("NumPy tier"))
    assert tier_row.is_failure  # the NumPy tier is held to the same check


def test_check_table_lists_discrepancies_with_corrections():
    rows = [check.Row("m", "000 §x", "e = 0.0825", "disagrees", "stated 0.0825, derived 0.04125",
                      "e = 0.04125"),
            check.Row("m", "symdl", "gradient", "passes", "ok")]
    text = check.table(rows)
    assert "Discrepancies between the documents and the derivations (1, from 1 cause)" in text
    assert "e = 0.04125" in text
