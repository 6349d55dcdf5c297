"""Spanish text is read by the Spanish folder (text/data/es/): lay Spanish of Spain and Latin
America, texting without accents, and clinical notes, each finding read as present, denied, a
relative's or hypothetical. The sentences are our own, invented for this test."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from backtriage.domain.urgency import UrgencyLevel
from backtriage.knowledge.loader import load_knowledge_base
from backtriage.text import assess_text, understand
from backtriage.text.resources import ABSENT_SUFFIX, load_text_resources

#: (text, finding, how it is read): "present" and "absent" are the answer the text gives;
#: "family" and "hypothetical" are mentions that never count, either way.
CASES: list[tuple[str, str, str]] = [
    # ---- lay Spanish of Spain
    ("Se me ha dormido la entrepierna y no noto el papel al limpiarme", "saddle_anaesthesia", "present"),
    (
        "Desde ayer me cuesta mucho hacer pis, tengo que apretar y sale a gotas",
        "bladder_dysfunction",
        "present",
    ),
    ("Anoche me meé encima sin enterarme", "bladder_dysfunction", "present"),
    ("Me hago caca encima y no lo noto", "bowel_dysfunction", "present"),
    ("Me fallan las piernas, no me sostienen", "bilateral_leg_weakness", "present"),
    ("Arrastro el pie izquierdo y tropiezo con la punta", "foot_drop", "present"),
    ("No me puedo poner de pie", "unable_to_walk", "present"),
    ("De repente me ha dado un dolor horrible en la espalda", "sudden_severe_back_pain", "present"),
    ("Tengo fiebre y escalofríos desde el domingo", "fever", "present"),
    ("No puedo respirar bien, me ahogo", "breathing_difficulty", "present"),
    ("Se me ha torcido la boca y no me salen las palabras", "stroke_signs", "present"),
    ("Me aprieta el pecho como si tuviera un elefante encima", "chest_pain", "present"),
    ("Me desmayé en la ducha", "fainting_or_collapse", "present"),
    ("Me caí de la escalera de mano pintando el techo", "major_trauma", "present"),
    ("Noto una faja apretada en el pecho y no siento nada de cintura para abajo", "sensory_level", "present"),
    ("El hormigueo empezó en los pies y ahora me sube por las piernas", "ascending_weakness", "present"),
    ("No se me levanta y no siento nada al tener relaciones", "sexual_dysfunction", "present"),
    # ---- texting, without accents
    ("tngo el culo dormido y no puedo mear xq no me sale nd", "saddle_anaesthesia", "present"),
    ("tngo el culo dormido y no puedo mear xq no me sale nd", "bladder_dysfunction", "present"),
    ("no siento nada ai abajo cuando me limpio", "saddle_anaesthesia", "present"),
    ("tb se me escapa el pis cuando toso", "bladder_dysfunction", "present"),
    ("tengo la pierna fria y blanca y no le encuentran el pulso", "cold_pale_limb", "present"),
    # ---- Latin America
    ("tengo la cola entumida y no puedo hacer pipí", "saddle_anaesthesia", "present"),
    ("se me entumen las dos piernas y no me responden", "bilateral_leg_weakness", "present"),
    ("mi mamá de 82 años no puede caminar desde ayer", "unable_to_walk", "present"),
    # ---- clinical Spanish
    ("Hipoestesia perianal y RAO con globo vesical", "saddle_anaesthesia", "present"),
    ("Hipoestesia perianal y RAO con globo vesical", "bladder_dysfunction", "present"),
    ("BM 3/5 en la flexión dorsal del pie izquierdo", "foot_drop", "present"),
    ("Esfínter anal hipotónico al tacto rectal", "bowel_dysfunction", "present"),
    ("ADVP activo, fiebre de 38,5", "iv_drug_use", "present"),
    ("AP: cáncer de próstata tratado con radioterapia", "cancer_history", "present"),
    ("Paciente inmunodeprimido por trasplante renal", "immunosuppression", "present"),
    # ---- denied
    ("Niega alteración de esfínteres", "bladder_dysfunction", "absent"),
    ("Sin anestesia en silla de montar", "saddle_anaesthesia", "absent"),
    ("No tengo fiebre", "fever", "absent"),
    ("no me fallan las piernas pero me duele la espalda", "bilateral_leg_weakness", "absent"),
    ("Fuerza 5/5 en MMII, marcha normal", "bilateral_leg_weakness", "absent"),
    ("orino y hago caca con normalidad", "bowel_dysfunction", "absent"),
    ("No he notado nada raro al limpiarme", "saddle_anaesthesia", "absent"),
    # ---- about a relative
    ("Mi madre murió de cáncer de colon", "cancer_history", "family"),
    ("Antecedentes familiares: padre con ictus", "stroke_signs", "family"),
    ("Mi padre tuvo cáncer de pulmón y yo tengo hormigueo en la pierna", "cancer_history", "family"),
    # ---- hypothetical
    (
        "Acuda a urgencias si no puede orinar o pierde fuerza en las piernas",
        "bladder_dysfunction",
        "hypothetical",
    ),
    (
        "Signos de alarma: fiebre, incontinencia urinaria o anestesia en silla de montar",
        "saddle_anaesthesia",
        "hypothetical",
    ),
    ("¿Y si es cáncer? Tengo miedo", "cancer_history", "hypothetical"),
]


@pytest.mark.parametrize(
    ("text", "finding", "read_as"), CASES, ids=[f"{f}-{r}-{i}" for i, (_, f, r) in enumerate(CASES)]
)
def test_spanish_sentence_is_read(text: str, finding: str, read_as: str) -> None:
    """Each sentence gives its finding the answer it should, or a mention that does not count."""
    found = understand(text, language="es")
    answer = found.answers.get(finding)
    mentions = found.mentions_of(finding)
    if read_as in ("present", "absent"):
        assert answer is (read_as == "present"), f"{text!r}: {finding} -> {answer}, {mentions}"
    else:
        assert answer is None, f"{text!r}: {finding} counted as {answer}"
        if read_as == "family":
            assert any(m.experiencer == "family" for m in mentions), mentions
        else:
            assert any(m.hypothetical for m in mentions), mentions


def test_numb_down_below_and_unable_to_pee_is_an_emergency() -> None:
    """Saddle numbness noticed on wiping with urinary retention is cauda equina until shown not."""
    assessment = assess_text("no siento nada ahí abajo al limpiarme y no puedo orinar", language="es")
    assert assessment.urgency is UrgencyLevel.EMERGENCY


def test_positional_back_ache_is_not_an_emergency() -> None:
    """An ache after sitting that goes on walking raises no alarm."""
    assessment = assess_text(
        "Me duele un poco la espalda después de estar mucho rato sentada y se me pasa al caminar",
        language="es",
    )
    assert assessment.urgency <= UrgencyLevel.URGENT


def test_spanish_folder_loads_and_names_every_red_flag() -> None:
    """The Spanish folder loads, is Spanish, and its pattern lexicon mentions every red flag."""
    res = load_text_resources(language="es")
    kb = load_knowledge_base()
    assert res.language == "es" and res.spacy_language == "es"
    assert kb.red_flag_findings <= {label.removesuffix(ABSENT_SUFFIX) for label in res.targets}
    assert set(res.concepts.findings) <= set(kb.findings)
    assert len(res.context_rules) > 300


def test_headings_with_accents_are_headings() -> None:
    """ "Exploración física:" opens the examination, so a finding there is not the family's."""
    from backtriage.domain.note import SectionRole
    from backtriage.text import understand

    note = (
        "Motivo de consulta: dolor lumbar.\nAntecedentes familiares: madre con cáncer.\n"
        "Exploración física: anestesia en silla de montar, globo vesical.\n"
        "Juicio clínico: síndrome de cola de caballo."
    )
    found = understand(note, language="es")
    assert found.layout is not None
    roles = {s.heading: s.role for s in found.layout.sections}
    assert roles["Exploración física"] is SectionRole.EXAMINATION
    assert roles["Juicio clínico"] is SectionRole.ASSESSMENT
    assert found.answers["saddle_anaesthesia"] is True and found.answers["bladder_dysfunction"] is True


PHRASES = yaml.safe_load(
    (Path(__file__).with_name("spanish_red_flag_phrases.yaml")).read_text(encoding="utf-8")
)


@pytest.mark.parametrize(
    ("finding", "phrase"), [(f, p) for f, phrases in PHRASES["present"].items() for p in phrases]
)
def test_red_flags_said_the_ways_people_say_them(finding: str, phrase: str) -> None:
    assert understand(phrase, language="es").answers.get(finding) is True


@pytest.mark.parametrize(
    ("finding", "phrase"), [(f, p) for f, phrases in PHRASES["not"].items() for p in phrases]
)
def test_look_alikes_are_not_read_as_the_finding(finding: str, phrase: str) -> None:
    assert understand(phrase, language="es").answers.get(finding) is not True
