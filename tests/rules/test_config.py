"""Configuration: rule selection, severities, payer profiles."""
import pytest

from edi837.config import ConfigError, load_config, parse_config
from edi837.drugs import load_drug_table
from edi837.engine import Engine
from edi837.x12.fragment import wrap_claims

# a named J-code the drug table does not hold (bevacizumab): not a NOC code, whose missing
# NDC warns for every payer class (the NDC is its only identity)
UNKNOWN_J_CODE_WITHOUT_NDC = """
CLM*C1*500***11:B:1*Y*A*Y*Y
HI*ABK:C50911
LX*1
SV1*HC:J9035*500*UN*1***1
DTP*472*D8*20260115
"""


def rules_for(tmp_path, config, fragment, **wrap):
    path = tmp_path / "claim.edi"
    path.write_text(wrap_claims(fragment, **wrap))
    return {f.rule for f in Engine(load_drug_table(), config).check_file(path).findings}


def test_ndc_required_for_every_j_code_only_in_the_matching_payer_profile(tmp_path):
    config = parse_config({"profiles": [{"name": "medicaid", "filing_indicators": ["MC"],
                                         "ndc_required": "j-codes"}]})
    assert "NDC001" in rules_for(tmp_path, config, UNKNOWN_J_CODE_WITHOUT_NDC, filing="MC")
    assert "NDC001" not in rules_for(tmp_path, config, UNKNOWN_J_CODE_WITHOUT_NDC, filing="CI")
    by_payer = parse_config({"profiles": [{"payer_ids": ["STATE01"], "ndc_required": "j-codes"}]})
    assert "NDC001" in rules_for(tmp_path, by_payer, UNKNOWN_J_CODE_WITHOUT_NDC,
                                 payer_id="STATE01")


def test_profile_ignore_and_severity_apply_only_to_its_claims(tmp_path):
    fragment = UNKNOWN_J_CODE_WITHOUT_NDC.replace("J9035", "J2350").replace("*1***1", "*600***1")
    config = parse_config({"severity": {"DX001": "warning"},
                           "profiles": [{"payer_ids": ["QUIET"], "ignore": ["DX", "NDC"]}]})
    engine = Engine(load_drug_table(), config)
    path = tmp_path / "a.edi"
    path.write_text(wrap_claims(fragment, filing="MC"))  # Medicaid: the NDC is required
    loud = {(f.rule, f.severity) for f in engine.check_file(path).findings}
    assert ("DX001", "warning") in loud and ("NDC001", "error") in loud
    path.write_text(wrap_claims(fragment, payer_id="QUIET", filing="MC"))
    quiet = {f.rule for f in engine.check_file(path).findings}
    assert not {r for r in quiet if r.startswith(("DX", "NDC"))}


def test_select_keeps_only_the_selected_codes_and_prefixes():
    config = parse_config({"select": ["NDC", "MOD001"], "ignore": ["NDC007"]})
    assert config.enabled("NDC002") and config.enabled("MOD001")
    assert not config.enabled("MOD002") and not config.enabled("NDC007")


@pytest.mark.parametrize("data,message", [
    ({"severty": {}}, "unknown setting.s. severty"),
    ({"severity": {"DX001": "fatal"}}, "severity.DX001"),
    ({"defaults": {"ndc_required": "sometimes"}}, "ndc_required"),
    ({"profiles": [{"jw_jz": "yes"}]}, "profiles[0].jw_jz"),
])
def test_bad_settings_name_the_setting(data, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_config(data, "edi837.toml")


def test_edi837_toml_in_the_working_folder_is_read(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_config().source is None
    (tmp_path / "edi837.toml").write_text('ignore = ["DOC"]\n')
    assert load_config().ignore == ("DOC",)
    (tmp_path / "edi837.toml").write_text("ignore = [\n")
    with pytest.raises(ConfigError, match="edi837.toml: invalid TOML"):
        load_config()
