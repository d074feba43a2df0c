"""Near-duplicates in Spark: the band scheme of `voc.dedupe` (16 bands of 4 MinHash rows over character
3-grams), joined across the whole data set instead of held in one process's memory.

A document is a near-duplicate of the earliest *earlier* document (by ``created_at``, then id) that shares
a band key, was written within ``window_days`` before it, and whose estimated Jaccard similarity reaches
the threshold. Undated documents are compared with undated ones only. Single-node ingest orders by
arrival (``registered_at``) and compares only with documents not themselves flagged; over history the
time the customer wrote is the better clock, and the join needs no order of processing.

Mass copies (a template sent thousands of times) would make a plain band join quadratic: every two copies
share all 16 bands. So identical signatures are grouped first and the band join runs on one row per
distinct signature; each document then looks for the earliest member of a similar group (its own
included) within its window, a running window function over the group's members in time order. The
answer is the one the pairwise join gives, at a cost linear in the copies; what stays quadratic is a band
bucket of many *distinct* similar signatures (near-copies that each differ), as in any band join.
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
    members, groups = signature_groups(documents)
    return earliest_in_window(members, similar_groups(groups, threshold), window_days)


def signature_groups(documents: DataFrame) -> tuple[DataFrame, DataFrame]:
    """(members: id, created_at, group; groups: group, signature, bands). A group is one distinct
    signature, named by its smallest document id."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    signed = documents.where(F.col("bands").isNotNull()).select("id", "created_at", "signature", "bands")
    grouped = signed.withColumn("group", F.min("id").over(Window.partitionBy("signature")))
    members = grouped.select("id", "created_at", "group")
    groups = grouped.where(F.col("id") == F.col("group")).select("group", "signature", "bands")
    return members, groups


def candidate_pairs(groups: DataFrame) -> DataFrame:
    """(group, other) once for every two distinct signatures that share a band key."""
    from pyspark.sql import functions as F

    exploded = groups.select("group", F.explode("bands").alias("band"))
    a, b = exploded.alias("a"), exploded.alias("b")
    return (a.join(b, on=(F.col("a.band") == F.col("b.band")) & (F.col("a.group") < F.col("b.group")))
            .select(F.col("a.group").alias("group"), F.col("b.group").alias("other"))
            .dropDuplicates(["group", "other"]))


def similar_groups(groups: DataFrame, threshold: float) -> DataFrame:
    """(group, other) for every group and each group similar to it, itself included (both directions)."""
    from pyspark.sql import functions as F

    signatures = groups.select("group", "signature")
    scored = (candidate_pairs(groups).join(signatures, on="group")
              .join(signatures.withColumnRenamed("group", "other").withColumnRenamed("signature", "other_signature"),
                    on="other"))
    same = F.aggregate(F.zip_with("signature", "other_signature", lambda x, y: F.when(x == y, 1).otherwise(0)),
                       F.lit(0), lambda total, v: total + v)
    similar = scored.where(same / F.size("signature") >= F.lit(float(threshold))).select("group", "other")
    return (similar.unionByName(similar.select(F.col("other").alias("group"), F.col("group").alias("other")))
            .unionByName(groups.select("group", F.col("group").alias("other"))))


def earliest_in_window(members: DataFrame, links: DataFrame, window_days: int) -> DataFrame:
    """(id, near_duplicate_of): each member's earliest document (by time, then id) among the members of
    the groups linked to its own, written at most ``window_days`` before it; undated documents look among
    undated ones only. A document is a member of its own pool, so an earliest that is not itself is
    earlier than it.

    Per group the pool's documents and the members' window starts are sorted together, latest first;
    the last pool document seen before a window start is the earliest at or after it: a running frame,
    linear in the rows (a frame reaching forward would be recomputed row by row)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    pool = (links.join(members.withColumnRenamed("group", "other"), on="other")
            .select("group", F.col("created_at").isNotNull().alias("dated"), F.col("created_at").alias("key"),
                    F.lit(1).alias("kind"), F.col("id").alias("candidate"), F.lit(None).cast("string").alias("id")))
    starts = members.select(
        "group", F.col("created_at").isNotNull().alias("dated"),
        (F.col("created_at") - F.expr(f"INTERVAL {int(window_days)} DAYS")).alias("key"),
        F.lit(0).alias("kind"), F.lit(None).cast("string").alias("candidate"), "id")
    # latest first; at an equal time a pool document before the window start that equals it (inclusive)
    order = Window.partitionBy("group", "dated").orderBy(
        F.col("key").desc_nulls_last(), F.col("kind").desc(), F.col("candidate").desc_nulls_last()
    ).rowsBetween(Window.unboundedPreceding, Window.currentRow)
    earliest = F.last("candidate", ignorenulls=True).over(order)
    resolved = pool.unionByName(starts).withColumn("earliest", earliest)
    return (resolved.where((F.col("kind") == 0) & (F.col("earliest") != F.col("id")))
            .select("id", F.col("earliest").alias("near_duplicate_of")))
