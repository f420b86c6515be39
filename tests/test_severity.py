"""Errata with severity: every discrepancy with a document says how bad it is.

The severities are written in the derivation files from the documents' text; these tests hold
the classification of the findings the issue names, and that `symdl check` shows it.
"""

import dataclasses
import json

import pytest

from claim_verdicts import rows
from symdl import check
from symdl.errors import DerivationError
from symdl.model import SEVERITIES, Derivation
from symdl.sources import builtin_names

CHEAP = [n for n in builtin_names() if n != "mnist_mlp"]  # mnist's claims train 3 models


def row_of(name, words):
    (found,) = [r for statement, r in rows(name).items() if words in statement]
    return found


@pytest.mark.parametrize("name", CHEAP)
def test_every_discrepancy_is_classified(name):
    for row in rows(name).values():
        if row.is_discrepancy:
            assert row.severity in SEVERITIES, (row.claim, row.severity)
            assert bool(row.assumption) == (row.severity == "assumption"), row.claim
        else:
            assert row.severity == "" and row.between == ""


@pytest.mark.parametrize("name, words, severity", [
    ("affine_mse", "e = 0.0825", "error"),
    ("unit_square", "direction of the turn", "error"),
    ("two_layer_network", "∂J/∂p = (p − c)/(p(1 − p))", "error"),
    ("affine_mse", "W times Y", "typo"),
    ("univariate_least_squares", "summing over k", "typo"),
    ("line_through_origin", "0.1·MSE'", "assumption"),
    ("univariate_least_squares", "convex", "assumption"),
    ("multivariate_least_squares", "2Qu", "assumption"),
])
def test_the_issues_findings_have_their_severity(name, words, severity):
    row = row_of(name, words)
    assert row.verdict == "disagrees" and row.severity == severity


def test_contradictions_between_documents_name_the_other_document():
    assert "002_" in row_of("affine_mse", "e = 0.0825").between
    assert "0.0412" in row_of("affine_mse", "e = 0.0825").between
    rotation = row_of("unit_square", "direction of the turn").between
    assert "000_" in rotation and "002_" in rotation and "unchanged" in rotation
    assert "003_" in row_of("two_layer_network", "∂J/∂p = (p − c)/(p(1 − p))").between
    assert row_of("line_through_origin", "0.1·MSE'").between == ""


def test_a_severity_outside_the_set_is_refused():
    derivation = Derivation("d", title="t", source="000_b9e7c87dcfbd1c26.txt")
    with pytest.raises(DerivationError, match="unknown severity 'wrong'"):
        derivation.claim("s", 1, lambda: 1, severity="wrong")
    with pytest.raises(DerivationError, match="needs the assumption stated"):
        derivation.claim("s", 1, lambda: 1, severity="assumption")
    with pytest.raises(DerivationError, match="only it takes one"):
        derivation.claim("s", 1, lambda: 1, severity="typo", assumption="x > 0")


def test_an_unclassified_discrepancy_says_so():
    derivation = Derivation("d", title="t", source="000_b9e7c87dcfbd1c26.txt")
    derivation.claim("one is two", 1, lambda: 2, compare="numeric")
    (row,) = check.check_derivation(derivation)
    assert row.severity == "unclassified"
    assert "not classified" in check.table([row])


def test_the_check_table_shows_severity_and_the_documents_between():
    found = [row_of("affine_mse", "e = 0.0825"), row_of("line_through_origin", "0.1·MSE'")]
    text = check.table(found)
    assert "| severity |" in text.splitlines()[0]
    assert "[an error in a result] affine_mse" in text
    assert "[holds only under an unstated assumption: the step is below" in text
    assert "Between the documents (1):" in text
    assert "(1 error, 0 typo, 1 assumption; 2 causes)" in text


def test_severity_survives_serialisation():
    """`symdl check --json` serialises Row with dataclasses.asdict: the fields are there."""
    record = json.loads(json.dumps(dataclasses.asdict(row_of("univariate_least_squares", "convex"))))
    assert record["severity"] == "assumption" and "2/λ_max" in record["assumption"]


def test_symdl_check_json_carries_the_severity(capsys):
    from symdl import cli
    cli.main(["check", "unit_square", "--json"])
    rows = json.loads(capsys.readouterr().out)["rows"]
    (turn,) = [r for r in rows if "direction of the turn" in r["claim"]]
    assert turn["severity"] == "error" and "unchanged" in turn["between"]
