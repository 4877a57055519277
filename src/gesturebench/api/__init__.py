"""One function per workflow; the CLI only parses, calls these and prints.

Each submodule holds one workflow (``demo``, ``zeroshot``, ...) and loads on
first use, so ``import gesturebench.api`` stays cheap.
"""

from __future__ import annotations

from ..lazy import lazy_getattr

_EXPORTS = {
    "DEMO_TRAIN_SOURCES": ".demo",
    "DemoConfig": ".demo",
    "DemoSummary": ".demo",
    "Progress": ".demo",
    "demo_table_rows": ".demo",
    "run_demo": ".demo",
    "run_zero_shot": ".zeroshot",
    "FinetuneResult": ".finetune",
    "finetune": ".finetune",
    "Outcome": ".common",
    "build_encoder": ".extract",
    "run_extract": ".extract",
    "run_knn": ".knn",
    "run_probe": ".probe",
    "run_fewshot": ".fewshot",
    "build_report": ".report",
    "FitSummary": ".recognise",
    "fit_recogniser": ".recognise",
    "load_recogniser": ".recognise",
    "predict_videos": ".recognise",
    "serve": ".recognise",
    "PoseCheck": ".pose",
    "check_pose_videos": ".pose",
    "UnseenResult": ".unseen",
    "run_unseen": ".unseen",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_getattr(__name__, _EXPORTS)
