"""Study configs (``gesturebench run CONFIG.yaml``): parsing and validation (:mod:`.config`),
the plan of steps with counts and cost (:mod:`.plan`); the runner is :func:`gesturebench.api.run.run_study`."""
