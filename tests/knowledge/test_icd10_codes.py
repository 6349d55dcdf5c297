"""Every ICD-10-CM code in the knowledge base exists in the CMS tables and is billable.

The tables come with the `simple-icd-10-cm` package (a development dependency), so the check
runs offline. A code that is only a category heading (e.g. "I71.3" after FY2023) fails too,
because coded output should name a code a clinician can record.
"""

from __future__ import annotations

import warnings

import pytest

with warnings.catch_warnings():  # it loads its tables with importlib's legacy resource API
    warnings.simplefilter("ignore", DeprecationWarning)
    import simple_icd_10_cm as cm

from backtriage.knowledge.loader import load_knowledge_base

CODES = sorted({(c.id, code) for c in load_knowledge_base().conditions.values() for code in c.icd10})


@pytest.mark.parametrize(("condition", "code"), CODES, ids=[f"{c}-{code}" for c, code in CODES])
def test_code_is_a_billable_icd10cm_code(condition: str, code: str) -> None:
    assert cm.is_valid_item(code), f"{condition}: {code} is not in the ICD-10-CM tables"
    assert cm.is_leaf(code), f"{condition}: {code} is a heading; name a billable code under it"


def test_the_check_can_fail() -> None:
    assert not cm.is_valid_item("M51.99")  # no such code
    assert not cm.is_leaf("I71.3")  # split into I71.30-I71.33 in FY2023
