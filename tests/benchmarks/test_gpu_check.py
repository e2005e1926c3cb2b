"""The GPU check runs its CPU parts where there is no CUDA and says what it skipped."""
import json

import pytest
import torch

from tests.benchmarks.script_loader import load_script


def _module():
    return load_script("gpu_check")


@pytest.mark.skipif(torch.cuda.is_available(), reason="the CPU path is what CI runs")
def test_the_cpu_run_checks_what_it_can_and_names_each_skip(tmp_path, capsys):
    gpu_check = _module()
    assert gpu_check.main(["--out", str(tmp_path), "--methods", "simclr", "--steps", "1"]) == 0
    rows = json.loads((tmp_path / "gpu_check.json").read_text())["rows"]
    status = {(r["section"], r["item"].split(" on ")[0]): r["status"] for r in rows}
    assert status[("methods", "simclr fp32")] == "ok"
    assert status[("checkpoint and resume", "resume at step 3")] == "ok"
    assert status[("torchrun", "1 process")] == "ok"
    skipped = [r for r in rows if r["status"] == "skipped"]
    assert {r["section"] for r in skipped} >= {"speed options", "throughput", "epoch time"}
    out = capsys.readouterr().out
    assert all(f"[skipped] {r['section']}: {r['item']}" in out for r in skipped)  # one line per skipped item
    assert "| methods | simclr fp32 | ok |" in (tmp_path / "gpu_check.md").read_text()


def test_an_unknown_method_is_one_sentence_and_exit_2(tmp_path, capsys):
    assert _module().main(["--out", str(tmp_path), "--methods", "simclr,nosuch"]) == 2
    assert capsys.readouterr().err.startswith("error: unknown method 'nosuch'")
