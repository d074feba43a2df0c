"""Near-duplicates in Spark: the band scheme of `voc.dedupe` (16 bands of 4 MinHash rows over character
3-grams), joined across the whole data set instead of held in one process's memory.

A document is a near-duplicate of the earliest *earlier* document (by ``created_at``, then id) that shares
a band key, was written within ``window_days`` before it, and whose estimated Jaccard similarity reaches
the threshold. Undated documents are compared with undated ones only. Single-node ingest orders by
arrival (``registered_at``) and compares only with documents not themselves flagged; over history the
time the customer wrote is the better clock, and the join needs no order of processing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from voc.text import minhash

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import DataFrame


def band_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """The signature as int32s (Spark has no unsigned type; equality is all the join needs) and its
    band keys, for the rows that have a signature."""
    signatures: list[Any] = [None] * len(frame)
    bands: list[Any] = [None] * len(frame)
    present = [i for i, value in enumerate(frame["minhash"]) if value is not None]
    if present:
        sigs = np.stack([minhash.from_bytes(frame["minhash"].iloc[i]) for i in present])
        keys = minhash.band_key_rows(sigs)
        for position, index in enumerate(present):
            signatures[index] = sigs[position].view(np.int32).tolist()
            bands[index] = keys[position]
    frame["signature"] = signatures
    frame["bands"] = bands
    return frame


def near_duplicates(documents: DataFrame, threshold: float, window_days: int) -> DataFrame:
    """(id, near_duplicate_of) for every flagged document of ``documents`` (id, created_at, signature,
    bands)."""
    from pyspark.sql import functions as F

    exploded = (documents.where(F.col("bands").isNotNull())
                .select("id", "created_at", F.explode("bands").alias("band")))
    a, b = exploded.alias("a"), exploded.alias("b")
    a_time, b_time = F.col("a.created_at"), F.col("b.created_at")
    earlier = (b_time < a_time) | ((b_time == a_time) & (F.col("b.id") < F.col("a.id")))
    in_window = a_time <= b_time + F.expr(f"INTERVAL {int(window_days)} DAYS")
    both_undated = a_time.isNull() & b_time.isNull() & (F.col("b.id") < F.col("a.id"))
    pairs = (a.join(b, on=F.col("a.band") == F.col("b.band"))
             .where((earlier & in_window) | both_undated)
             .select(F.col("a.id").alias("id"), F.col("b.id").alias("other"), F.col("b.created_at").alias("other_at"))
             .dropDuplicates(["id", "other"]))
    signatures = documents.select("id", "signature")
    scored = (pairs.join(signatures, on="id")
              .join(signatures.withColumnRenamed("id", "other").withColumnRenamed("signature", "other_signature"),
                    on="other"))
    same = F.aggregate(F.zip_with("signature", "other_signature", lambda x, y: F.when(x == y, 1).otherwise(0)),
                       F.lit(0), lambda total, v: total + v)
    similar = scored.where(same / F.size("signature") >= F.lit(float(threshold)))
    # the earliest similar document: nulls (undated) sort first, and only meet other undated ones
    first = F.min(F.struct(F.col("other_at"), F.col("other")))
    return similar.groupBy("id").agg(first.alias("first")).select("id", F.col("first.other").alias("near_duplicate_of"))
