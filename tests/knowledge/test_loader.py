"""The shipped knowledge base loads; broken copies fail loudly with a named problem."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from backtriage.errors import KnowledgeBaseError
from backtriage.knowledge.loader import KB_FILES, KnowledgeBase, load_knowledge_base


def _edit(folder: Path, name: str, change) -> None:  # type: ignore[no-untyped-def]
    path = folder / name
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def _problems(folder: Path) -> str:
    with pytest.raises(KnowledgeBaseError) as err:
        load_knowledge_base(folder)
    return "\n".join(err.value.problems)


def test_shipped_knowledge_base_is_valid_and_versioned(kb: KnowledgeBase) -> None:
    assert kb.version.count(".") == 2
    assert len(kb.content_hash) == 64
    assert kb.warnings == ()


def test_every_shipped_file_is_loaded(kb_copy: Path) -> None:
    assert sorted(p.name for p in kb_copy.glob("*.yaml")) == sorted(KB_FILES)


def test_hash_changes_when_content_changes(kb: KnowledgeBase, kb_copy: Path) -> None:
    _edit(kb_copy, "manifest.yaml", lambda d: d["manifest"].update(description="changed text"))
    assert load_knowledge_base(kb_copy).content_hash != kb.content_hash


def test_seed_findings_exist_with_their_exact_ids(kb: KnowledgeBase) -> None:
    seed = [
        "posture_related",
        "resolves_with_movement",
        "muscle_tightness",
        "persistent",
        "recurring",
        "wide_area",
        "radiates_to_leg",
        "leg_weakness",
        "bilateral_leg_weakness",
        "worse_with_walking",
        "relieved_by_sitting_or_flexion",
        "chest_or_arm_radiation",
        "sudden_severe_back_pain",
        "foot_drop",
        "saddle_anaesthesia",
        "bladder_dysfunction",
        "bowel_dysfunction",
    ]
    assert set(seed) <= set(kb.findings)


def test_required_conditions_are_present_with_codes(kb: KnowledgeBase) -> None:
    required = {
        "positional_nerve_compression",
        "muscle_tension_spasm",
        "piriformis_syndrome",
        "lumbar_disc_herniation",
        "lumbar_spinal_stenosis",
        "spondylolisthesis",
        "thoracic_disc_radiculopathy",
        "cervical_radiculopathy",
        "cervical_myelopathy",
        "cauda_equina_syndrome",
        "metastatic_spinal_cord_compression",
        "spinal_infection",
        "traumatic_vertebral_fracture",
        "osteoporotic_vertebral_fracture",
        "notalgia_paresthetica",
        "meralgia_paresthetica",
        "herpes_zoster",
        "diabetic_truncal_radiculopathy",
        "ms_transverse_myelitis",
        "vitamin_b12_deficiency",
        "guillain_barre_syndrome",
        "aortic_dissection",
    }
    assert required <= set(kb.conditions)
    assert set(kb.conditions["lumbar_disc_herniation"].levels) == {"L4", "L5", "S1"}
    assert kb.conditions["cauda_equina_syndrome"].icd10 == ["G83.4"]


def test_every_estimate_cites_the_estimate_source(kb: KnowledgeBase) -> None:
    for c in kb.conditions.values():
        for ev in c.evidence:
            kinds = {kb.sources[s].kind for s in ev.sources}
            assert ev.estimate == ("estimate" in kinds), (c.id, ev.finding)


def test_missing_file(kb_copy: Path) -> None:
    (kb_copy / "advice.yaml").unlink()
    assert "advice.yaml: file is missing" in _problems(kb_copy)


def test_invalid_yaml_names_the_line(kb_copy: Path) -> None:
    (kb_copy / "findings.yaml").write_text("findings:\n  - id: [unclosed\n")
    assert "findings.yaml line" in _problems(kb_copy)


def test_unknown_finding_in_rule(kb_copy: Path) -> None:
    _edit(kb_copy, "red_flags.yaml", lambda d: d["rules"][0]["all"].append("saddle_anesthesia"))
    assert "unknown finding 'saddle_anesthesia'" in _problems(kb_copy)


def test_unknown_finding_in_evidence(kb_copy: Path) -> None:
    _edit(
        kb_copy,
        "conditions.yaml",
        lambda d: d["conditions"][0]["evidence"][0].update(finding="no_such_finding"),
    )
    assert "unknown finding 'no_such_finding'" in _problems(kb_copy)


def test_missing_source(kb_copy: Path) -> None:
    _edit(kb_copy, "red_flags.yaml", lambda d: d["rules"][0].update(sources=[]))
    assert "sources" in _problems(kb_copy)


def test_unknown_source(kb_copy: Path) -> None:
    _edit(kb_copy, "advice.yaml", lambda d: d["advice"][0].update(sources=["made_up_2099"]))
    assert "unknown source 'made_up_2099'" in _problems(kb_copy)


def test_evidence_without_source_or_estimate(kb_copy: Path) -> None:
    def change(d: dict) -> None:  # type: ignore[type-arg]
        ev = d["conditions"][0]["evidence"][0]
        ev["sources"] = []
        ev["estimate"] = False

    _edit(kb_copy, "conditions.yaml", change)
    assert "names no source and is not marked as an estimate" in _problems(kb_copy)


@pytest.mark.parametrize(
    ("field", "value"),
    [("prior", 1.5), ("prior", 0), ("prior", -0.1)],
)
def test_prior_out_of_range(kb_copy: Path, field: str, value: float) -> None:
    _edit(kb_copy, "conditions.yaml", lambda d: d["conditions"][0].update({field: value}))
    assert "prior" in _problems(kb_copy)


@pytest.mark.parametrize(
    "change",
    [{"sensitivity": 1.2, "specificity": 0.5}, {"lr_present": -2}, {"lr_present": 0}],
)
def test_likelihood_out_of_range(kb_copy: Path, change: dict) -> None:  # type: ignore[type-arg]
    def edit(d: dict) -> None:  # type: ignore[type-arg]
        ev = d["conditions"][0]["evidence"][0]
        for key in ("lr_present", "lr_absent"):
            ev.pop(key, None)
        ev.update(change)

    _edit(kb_copy, "conditions.yaml", edit)
    assert "evidence" in _problems(kb_copy)


def test_priors_adding_past_one(kb_copy: Path) -> None:
    _edit(kb_copy, "conditions.yaml", lambda d: [c.update(prior=0.5) for c in d["conditions"][:3]])
    assert "priors add up to" in _problems(kb_copy)


def test_unreachable_rule_with_contradiction(kb_copy: Path) -> None:
    _edit(
        kb_copy,
        "red_flags.yaml",
        lambda d: d["rules"].append(
            {
                "id": "contradiction",
                "name": "Cannot fire",
                "urgency": "urgent",
                "all": ["fever", "longstanding_stable"],
                "none": ["longstanding_stable"],
                "rationale": "A rule that can never fire.",
                "sources": ["seed_emergency"],
            }
        ),
    )
    assert "rule 'contradiction': never fires" in _problems(kb_copy)


def test_unreachable_rule_with_impossible_ages(kb_copy: Path) -> None:
    _edit(
        kb_copy,
        "red_flags.yaml",
        lambda d: d["rules"].append(
            {
                "id": "ages",
                "name": "Young and old",
                "urgency": "routine",
                "all": ["age_under_20", "age_70_or_over"],
                "rationale": "A rule that can never fire.",
                "sources": ["seed_emergency"],
            }
        ),
    )
    assert "age conditions cannot all hold" in _problems(kb_copy)


def test_red_flag_in_none_clause_is_refused(kb_copy: Path) -> None:
    _edit(kb_copy, "red_flags.yaml", lambda d: d["rules"][0].update({"none": ["fever"]}))
    assert "would let a red flag lower the urgency" in _problems(kb_copy)


def test_red_flag_without_its_own_rule_is_refused(kb_copy: Path) -> None:
    _edit(
        kb_copy,
        "red_flags.yaml",
        lambda d: d.update(rules=[r for r in d["rules"] if r["id"] != "foot_drop_present"]),
    )
    assert "red-flag finding 'foot_drop' has no rule of its own" in _problems(kb_copy)


def test_screen_must_cover_saddle_bladder_bowel(kb_copy: Path) -> None:
    _edit(kb_copy, "red_flags.yaml", lambda d: d["screens"][0].update(questions=["saddle_anaesthesia"]))
    assert "must ask 'bladder_dysfunction'" in _problems(kb_copy)


def test_unknown_key_is_rejected(kb_copy: Path) -> None:
    _edit(kb_copy, "findings.yaml", lambda d: d["findings"][8].update(redflag=True))
    assert "redflag" in _problems(kb_copy)


def test_duplicate_ids(kb_copy: Path) -> None:
    _edit(kb_copy, "advice.yaml", lambda d: d["advice"].append(dict(d["advice"][0])))
    assert "defined more than once" in _problems(kb_copy)


def test_differential_may_not_decide_emergencies(kb_copy: Path) -> None:
    _edit(kb_copy, "policy.yaml", lambda d: d["policy"].update(differential_urgency_cap="emergency"))
    assert "emergencies are decided by rules alone" in _problems(kb_copy)


def test_all_problems_are_reported_together(kb_copy: Path) -> None:
    def change(d: dict) -> None:  # type: ignore[type-arg]
        d["advice"][0]["sources"] = ["nope_one"]
        d["advice"][1]["sources"] = ["nope_two"]

    _edit(kb_copy, "advice.yaml", change)
    text = _problems(kb_copy)
    assert "nope_one" in text and "nope_two" in text


def _pattern(data: dict, **changes: object) -> None:  # type: ignore[type-arg]
    data["benign_patterns"][0].update(changes)


def test_a_harmless_pattern_resting_on_a_red_flag_is_refused(kb_copy: Path) -> None:
    _edit(kb_copy, "red_flags.yaml", lambda d: _pattern(d, all=["posture_related", "saddle_anaesthesia"]))
    assert "red-flag finding 'saddle_anaesthesia' cannot be part of a harmless pattern" in _problems(kb_copy)


def test_without_harmless_patterns_self_care_is_impossible_and_refused(kb_copy: Path) -> None:
    _edit(kb_copy, "red_flags.yaml", lambda d: d.update(benign_patterns=[]))
    assert "no benign pattern" in _problems(kb_copy)


def test_a_choice_may_not_answer_a_red_flag_no_by_omission(kb_copy: Path) -> None:
    def change(data: dict) -> None:  # type: ignore[type-arg]
        screen = next(q for q in data["questions"] if q["id"] == "emergency_screen")
        screen["unchosen_means_no"] = True

    _edit(kb_copy, "questions.yaml", change)
    assert "a choice may not answer red flag 'stroke_signs' no" in _problems(kb_copy)


def test_a_definition_may_not_rule_out_a_red_flag(kb_copy: Path) -> None:
    def change(data: dict) -> None:  # type: ignore[type-arg]
        finding = next(f for f in data["findings"] if f["id"] == "resolves_with_movement")
        finding["excludes"] = ["persistent", "saddle_anaesthesia"]

    _edit(kb_copy, "findings.yaml", change)
    assert "may not rule out red flag 'saddle_anaesthesia'" in _problems(kb_copy)


def test_advice_may_only_use_the_emergency_number_placeholder(kb_copy: Path) -> None:
    _edit(kb_copy, "advice.yaml", lambda d: d["advice"][0].update(text="Call {ambulance} now, please."))
    assert "unknown placeholder(s) ['ambulance']" in _problems(kb_copy)


def test_policy_numbers_are_validated(kb_copy: Path) -> None:
    _edit(kb_copy, "policy.yaml", lambda d: d["policy"]["interview"].update(background_rate=1.5))
    assert "policy.yaml: policy: interview.background_rate: Input should be less than 1" in _problems(kb_copy)
