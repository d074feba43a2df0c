from __future__ import annotations

import numpy as np

from voc.text.minhash import BANDS, NUM_PERM, band_keys, from_bytes, jaccard, signature, signatures, to_bytes

SPAM = "限时特惠全场五折快来抢购，关注店铺领取优惠券，好评返现二十元，联系客服获取链接"
REVIEW = "这家店的外卖送得太慢了，等了一个多小时，汤都洒了，骑手态度也很差，再也不会点了"


def test_small_edits_stay_similar_and_share_a_band() -> None:
    for original, edited in [(SPAM, SPAM.replace("二十", "三十")), (REVIEW, REVIEW.replace("一个多", "两个多")),
                             (REVIEW, REVIEW.replace("，", "!!! "))]:
        a, b = signature(original), signature(edited)
        assert a is not None and b is not None
        assert jaccard(a, b) >= 0.7
        assert set(band_keys(a)) & set(band_keys(b))


def test_unrelated_texts_are_far_apart() -> None:
    a, b = signature(SPAM), signature(REVIEW)
    assert a is not None and b is not None
    assert jaccard(a, b) < 0.2 and not set(band_keys(a)) & set(band_keys(b))


def test_batch_equals_single_and_handles_empty_and_short_texts() -> None:
    texts = [REVIEW, "", "!!!", "好", SPAM, "ab"]
    batch = signatures(texts)
    assert batch[1] is None and batch[2] is None
    for text, sig in zip(texts, batch, strict=True):
        single = signature(text)
        assert (single is None and sig is None) or np.array_equal(single, sig)
    assert batch[0] is not None and batch[0].shape == (NUM_PERM,) and batch[0].dtype == np.uint32


def test_signatures_are_deterministic_and_round_trip_bytes() -> None:
    sig = signature(REVIEW)
    assert sig is not None
    assert np.array_equal(from_bytes(to_bytes(sig)), sig)
    keys = band_keys(sig)
    assert len(keys) == BANDS and all(0 <= key < 2**63 for key in keys)
    # Fixed coefficients: the same text gives the same signature in every process and run.
    assert band_keys(signature(REVIEW)) == keys  # type: ignore[arg-type]
