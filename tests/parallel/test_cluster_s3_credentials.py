"""A worker that cannot read an input in the object store (no credentials on its host)
is a cluster problem, named as such (issue 26 item 2; README "Running on a cluster", the
object store row): exit status 2, a line naming the input and the worker's failure,
never "changed while being checked", and no report written as if the run were done
(the audit of 7 December: tested for a worker blind to a local path, not for S3)."""
import os

import pytest
from batch_support import CLEAN, edi, subprocess_env
from dask_support import own_cluster
from store_support import edi837

pytestmark = pytest.mark.slow
NO_CREDENTIALS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                  "AWS_PROFILE")


def test_a_worker_without_s3_credentials_is_a_cluster_error(s3_server, bucket, tmp_path):
    name, fs = bucket
    with fs.open(f"{name}/nightly/a.edi", "wb") as out:
        out.write(edi(CLEAN))
    env = {k: v for k, v in subprocess_env().items() if k not in NO_CREDENTIALS}
    env.update(AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_CONFIG_FILE=os.devnull,
               AWS_EC2_METADATA_DISABLED="true")
    with own_cluster(tmp_path / "cluster", workers=0) as cluster:
        cluster.add_worker("no-credentials", env=env)
        cluster.wait_for_workers(1)
        report = tmp_path / "report.json"
        result = edi837("check", f"s3://{name}/nightly/", "--dask", cluster.address,
                        "--format", "json", "-o", report, timeout=180)
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert f"s3://{name}/nightly/a.edi" in result.stderr, result.stderr
    # the worker and its failure named, what every worker needs said
    assert "the worker no-credentials" in result.stderr and \
        "cannot read this input (NoCredentialsError" in result.stderr, result.stderr
    assert "every worker must reach each input" in result.stderr
    assert "changed while" not in result.stderr and "Traceback" not in result.stderr
    assert not report.exists()
