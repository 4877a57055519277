def test_probe_results_get_their_own_table(tmp_path):
    """A probe result validates, gets a templated name, and forms its own study table."""
    import re

    import numpy as np

    from gesturebench.evaluators.probe import evaluate_probe
    from gesturebench.evaluators.results import load_result, write_result
    from gesturebench.report import write_report
    from gesturebench.types import FeatureSet

    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 8)) * 5

    def fs(n, domain):
        y = np.repeat(np.arange(3), n)
        x = (centres[y] + rng.normal(size=(len(y), 8))).astype(np.float32)
        return FeatureSet(x, y, tuple(f"{domain}{i}" for i in range(len(y))), ("A", "B", "C"),
                          (domain,) * len(y), ("ground",) * len(y), key=domain * 3)

    result = evaluate_probe([fs(10, "synthetic")], fs(4, "target"), bootstrap=50)
    path = write_result(result, tmp_path / "results")
    assert re.fullmatch(r"probe__unknown__train-synthetic\.syntheti__test-target\.targetta__Cauto__s-[0-9a-f]{8}\.json",
                        path.name)
    doc = load_result(path)
    report = write_report(tmp_path / "results", tmp_path / "report", figures=False).read_text()
    assert doc["settings"]["C_source"] == "validation"
    assert f"### Test set: target (linear probe, C {doc['settings']['C_chosen']:g} (validation))" in report
    assert f"{100 * doc['metrics']['accuracy']:.1f}" in report
