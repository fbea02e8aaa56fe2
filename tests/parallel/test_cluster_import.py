"""The driver imports Dask lean (edi837.parallel.cluster.require_dask, issue 26: the
driver's fixed CPU): the same Dask configuration as a plain import, and nothing left
changed for what comes after.  Each case runs in a fresh interpreter (``distributed``
is imported once per process)."""
import json
import subprocess
import sys

import pytest

pytest.importorskip("distributed")

CONFIG = "import json, dask; print(json.dumps(dask.config.config, sort_keys=True, default=str))"


def _python(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout


def test_the_lean_import_gives_dask_the_configuration_of_a_plain_one(tmp_path):
    # a user's own YAML configuration too, read by Dask while distributed is imported
    (tmp_path / "edi837-test.yaml").write_text(
        "distributed:\n  scheduler:\n    allowed-failures: 7\n  comm:\n"
        "    timeouts:\n      connect: 42s\n")
    setup = f"import os; os.environ['DASK_CONFIG'] = {str(tmp_path)!r}\n"
    lean = _python(setup + "from edi837.parallel.cluster import require_dask\n"
                   "require_dask()\n" + CONFIG)
    plain = _python(setup + "import distributed\n" + CONFIG)
    assert lean == plain
    config = json.loads(lean)
    assert config["distributed"]["scheduler"]["allowed-failures"] == 7
    assert config["distributed"]["comm"]["timeouts"]["connect"] == "42s"


def test_the_lean_import_leaves_yaml_and_jinja2_as_they_were():
    out = _python(
        "import sys, yaml\n"
        "before = yaml.safe_load\n"
        "from edi837.parallel.cluster import require_dask\n"
        "distributed = require_dask()\n"
        "assert 'jinja2' not in sys.modules, 'jinja2 imported'\n"
        "assert yaml.safe_load is before\n"
        "import jinja2\n"  # importable as ever, once Dask is in
        "print(jinja2.Template('{{ 1 + 1 }}').render(), distributed.Client.__name__)\n")
    assert out.split() == ["2", "Client"]


def test_an_already_imported_dask_is_left_alone():
    out = _python("import sys, distributed, jinja2, yaml\n"
                  "before = yaml.safe_load\n"
                  "from edi837.parallel.cluster import require_dask\n"
                  "assert require_dask() is distributed and yaml.safe_load is before\n"
                  "print(sys.modules['jinja2'] is jinja2)\n")
    assert out.strip() == "True"
