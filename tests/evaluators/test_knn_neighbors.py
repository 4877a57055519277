"""knn_predict / knn_neighbors: exactness, chunking, deterministic ties, scikit-learn agreement."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from gesturebench.errors import ConfigError, EvaluationError
from gesturebench.evaluators.knn import knn_neighbors, knn_predict, majority_vote


def _brute(train, test, k, metric="l2"):
    """float64 reference: order by (distance, train index)."""
    a = test.astype(np.float64)
    b = train.astype(np.float64)
    if metric == "l2":
        d = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
    else:
        an = a / np.linalg.norm(a, axis=1, keepdims=True)
        bn = b / np.linalg.norm(b, axis=1, keepdims=True)
        d = 1.0 - an @ bn.T
    idx = np.stack([np.lexsort((np.arange(len(b)), row))[:k] for row in d])
    dist = np.take_along_axis(d, idx, 1)
    return idx, (np.sqrt(dist) if metric == "l2" else dist)


@pytest.mark.parametrize("n_queries", [1, 7, 99])
@pytest.mark.parametrize("metric", ["l2", "cosine"])
def test_small_query_counts_match_brute_force_in_every_chunking(n_queries, metric):
    rng = np.random.default_rng(n_queries)
    train = (rng.normal(size=(300, 12)) + 2).astype(np.float32)
    test = (rng.normal(size=(n_queries, 12)) + 2).astype(np.float32)
    ref_idx, ref_dist = _brute(train, test, 5, metric)
    for chunk_rows, block in [(None, 1 << 24), (1, 1 << 24), (3, 40), (None, 50), (1000, 7)]:
        idx, dist = knn_neighbors(train, test, 5, metric, chunk_rows=chunk_rows, device="cpu", max_block_elems=block)
        assert idx.shape == (n_queries, 5)
        np.testing.assert_array_equal(idx, ref_idx)
        np.testing.assert_allclose(dist, ref_dist, rtol=1e-12, atol=1e-12)


def test_exact_duplicates_are_ordered_by_train_index():
    train = np.array([[5.0, 5.0], [1.0, 0.0], [1.0, 0.0], [0.0, 0.0], [1.0, 0.0]], np.float32)
    test = np.array([[0.9, 0.0]], np.float32)
    idx, dist = knn_neighbors(train, test, k=4, device="cpu")
    assert idx.tolist() == [[1, 2, 4, 3]]
    np.testing.assert_allclose(dist[0], [0.1, 0.1, 0.1, 0.9], rtol=1e-6)
    # same answer however the training rows are chunked
    idx2, _ = knn_neighbors(train, test, k=4, device="cpu", max_block_elems=4)
    assert idx2.tolist() == [[1, 2, 4, 3]]


def test_near_ties_with_large_offset_follow_float64_order():
    # Rows share an offset of 1000, so float32 ||a||^2 - 2ab + ||b||^2 cannot
    # separate them; the result must still equal the float64 (distance, index) order.
    # Two clusters at +1000 and -1000 keep the mean near 0, so centring cannot help.
    rng = np.random.default_rng(3)
    base = np.where(np.arange(400) % 2 == 0, 1000.0, -1000.0)[:, None] * np.ones((1, 16))
    train = (base + rng.integers(-2, 3, size=(400, 16)) * 1e-3).astype(np.float32)
    test = (base[:20] + rng.integers(-2, 3, size=(20, 16)) * 1e-3).astype(np.float32)
    ref_idx, _ = _brute(train, test, 7)
    idx, _ = knn_neighbors(train, test, 7, device="cpu")
    np.testing.assert_array_equal(idx, ref_idx)


def test_cosine_zero_vector_has_distance_one():
    train = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]], np.float32)
    idx, dist = knn_neighbors(train, np.array([[0.0, 2.0]], np.float32), k=3, metric="cosine", device="cpu")
    assert idx.tolist() == [[2, 0, 1]]
    np.testing.assert_allclose(dist[0], [0.0, 1.0, 1.0], atol=1e-12)


def test_majority_vote_tie_break_picks_nearest_among_tied_classes():
    labels = np.array(
        [
            [0, 0, 1],  # clear majority
            [2, 1, 0],  # 3-way tie -> nearest neighbour's class
            [1, 0, 0, 1],  # 2-2 tie -> class 1 (nearest)
            [2, 0, 1, 0, 1],  # 0 and 1 tied at 2; class 2 is nearest but not tied -> 0
        ],
        dtype=object,
    )
    preds, tied = [], []
    for row in labels:
        p, t = majority_vote(np.array([row], np.int64), 3)
        preds.append(int(p[0]))
        tied.append(bool(t[0]))
    assert preds == [0, 2, 1, 0]
    assert tied == [False, True, True, True]


def test_planted_vote_tie_through_knn_predict():
    # neighbours of the query at 0, by distance: class 2 (d=1), class 0 (d=2), class 1 (d=3),
    # class 0 (d=4), class 1 (d=5): k=5 ties classes 0 and 1 -> the nearer one, class 0.
    train = np.array([[1.0], [2.0], [3.0], [4.0], [5.0], [50.0]], np.float32)
    y = np.array([2, 0, 1, 0, 1, 2])
    pred, idx, dist = knn_predict(train, y, np.array([[0.0]], np.float32), k=5, device="cpu")
    assert pred.tolist() == [0]
    assert idx.tolist() == [[0, 1, 2, 3, 4]]
    np.testing.assert_allclose(dist[0], [1, 2, 3, 4, 5])
    # k=3: one vote each -> nearest neighbour's class 2
    pred3, _, _ = knn_predict(train, y, np.array([[0.0]], np.float32), k=3, device="cpu")
    assert pred3.tolist() == [2]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("metric", ["l2", "cosine"])
@pytest.mark.parametrize("k", [1, 3, 5])
def test_matches_sklearn_where_no_tie(seed, metric, k):
    from sklearn.neighbors import KNeighborsClassifier

    rng = np.random.default_rng(100 + seed)
    n, q, d, c = 400, 150, 24, 4
    centers = rng.normal(size=(c, d)) * 0.8
    y = rng.integers(0, c, n)
    train = (centers[y] + rng.normal(size=(n, d))).astype(np.float32)
    yt = rng.integers(0, c, q)
    test = (centers[yt] + rng.normal(size=(q, d))).astype(np.float32)

    pred, idx, dist = knn_predict(train, y, test, k=k, metric=metric, device="cpu")
    sk = KNeighborsClassifier(n_neighbors=k, algorithm="brute", metric="euclidean" if metric == "l2" else "cosine")
    sk.fit(train, y)
    sk_pred = sk.predict(test)
    sk_dist, sk_idx = sk.kneighbors(test, n_neighbors=k + 1)

    _, vote_tied = majority_vote(y[idx], c)
    gap = sk_dist[:, k] - sk_dist[:, k - 1]  # k-th vs (k+1)-th neighbour
    clean = ~vote_tied & (gap > 1e-5)
    assert clean.sum() > q // 2
    np.testing.assert_array_equal(pred[clean], sk_pred[clean])
    np.testing.assert_array_equal(np.sort(idx[clean], 1), np.sort(sk_idx[clean, :k], 1))
    np.testing.assert_allclose(dist, sk_dist[:, :k], rtol=1e-5, atol=1e-5)


def test_empty_query_set_returns_empty_arrays():
    pred, idx, dist = knn_predict(np.ones((4, 3), np.float32), [0, 1, 0, 1], np.zeros((0, 3), np.float32), device="cpu")
    assert pred.shape == (0,) and idx.shape == (0, 3) and dist.shape == (0, 3)


def test_input_errors_name_the_bad_value():
    x = np.zeros((4, 3), np.float32)
    with pytest.raises(EvaluationError, match=r"^k=5 exceeds the number of training rows \(4\)$"):
        knn_neighbors(x, x, k=5, device="cpu")
    with pytest.raises(ConfigError, match=r"^metric must be one of l2, cosine; got 'l1'$"):
        knn_neighbors(x, x, metric="l1", device="cpu")
    with pytest.raises(EvaluationError, match=r"^test feature dimension 2 differs from training dimension 3$"):
        knn_neighbors(x, np.zeros((1, 2), np.float32), device="cpu")
    bad = x.copy()
    bad[1, 1] = np.nan
    with pytest.raises(EvaluationError, match="NaN"):
        knn_neighbors(bad, x, device="cpu")
    with pytest.raises(ConfigError, match=r"^chunk_rows must be an integer >= 1; got 0$"):
        knn_neighbors(x, x, chunk_rows=0, device="cpu")
    with pytest.raises(EvaluationError, match=r"^3 train labels for 4 training rows$"):
        knn_predict(x, [0, 1, 0], x, device="cpu")


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 60),
    q=st.integers(1, 12),
    d=st.integers(1, 6),
    k_frac=st.floats(0, 1),
    chunk=st.one_of(st.none(), st.integers(1, 13)),
    block=st.sampled_from([1, 5, 64, 1 << 24]),
    offset=st.sampled_from([0.0, 300.0]),
)
# sqrt(51): torch's vectorised CPU sqrt returned a value 1 ulp off the correctly rounded one
@example(seed=0, n=8, q=3, d=6, k_frac=1.0, chunk=None, block=1, offset=0.0)
def test_property_small_integer_grids_full_of_ties(seed, n, q, d, k_frac, chunk, block, offset):
    # integer coordinates in {-2..2}: many exactly equal distances, all computed exactly
    rng = np.random.default_rng(seed)
    train = (rng.integers(-2, 3, (n, d)) + offset).astype(np.float32)
    test = (rng.integers(-2, 3, (q, d)) + offset).astype(np.float32)
    k = 1 + int(k_frac * (n - 1))
    idx, dist = knn_neighbors(train, test, k, chunk_rows=chunk, device="cpu", max_block_elems=block)
    ref_idx, ref_dist = _brute(train, test, k)
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_array_equal(dist, ref_dist)
