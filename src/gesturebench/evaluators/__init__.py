"""Evaluators: pure functions on features returning result dataclasses (never None).

- :mod:`.knn` -- exact chunked k-NN classification and :func:`evaluate_knn`;
- :mod:`.zeroshot` -- cosine zero-shot classification from prompt embeddings;
- :mod:`.metrics` -- accuracy, per-class accuracy, confusion, bootstrap CI;
- :mod:`.results` -- result JSON files (write, load, validate).

Importing this package imports no torch; :mod:`.knn` imports it when called.
"""
