"""Every user-facing string of the page and the presentation layer is in the message catalogue, so
a translation (a folder `locale/<lang>/LC_MESSAGES/backtriage.po`) can cover all of them."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "src" / "backtriage" / "locale" / "backtriage.pot"
METHODS = [
    ("src/backtriage/interfaces/presentation/**.py", "python"),
    ("src/backtriage/interfaces/web/__init__.py", "python"),
    ("src/backtriage/interfaces/web/smart.py", "python"),
    ("src/backtriage/interfaces/web/templates/**.html", "jinja2"),
]


def test_the_catalogue_holds_every_message_in_the_code_and_templates() -> None:
    found = {
        message[2] if isinstance(message[2], str) else message[2][0]
        for message in extract_from_dir(
            str(ROOT), METHODS, options_map={"**.html": {"extensions": "jinja2.ext.i18n"}}
        )
    }
    with CATALOGUE.open("rb") as f:
        shipped = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}
    extract = "pybabel extract -F babel.cfg --no-location --omit-header --sort-output"
    assert found - shipped == set(), f"run: {extract} -o src/backtriage/locale/backtriage.pot ."
    assert shipped - found == set(), "the catalogue holds messages nothing uses any more"
    assert len(found) > 50
