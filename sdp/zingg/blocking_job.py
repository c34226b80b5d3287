"""Spark job (run by spark-submit beside Zingg's jar): read a trained Zingg model's blocking tree
and, given the records Zingg matched, the block each record falls in.

Zingg 0.7 reports neither: its learnt blocking tree is a Java-serialized object in
`<model>/model/block/zingg.block`, and the match phase logs no pair counts. Zingg gives every
record one block hash (one path through the tree) and compares the records that share it, so
the hashes say exactly which pairs Zingg compared. This job asks Zingg's own classes for both
and writes plain files; `sdp.zingg.blocking` reads them. It imports only pyspark, because it
runs in spark-submit's Python.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F


def _node(tree, depth: int) -> list[dict]:
    """The tree depth-first: each split's field, hash function and how many children it has."""
    head = tree.getHead()
    context = head.getContext() if head is not None else None
    function = head.getFunction() if head is not None else None
    children = list(tree.getSubTrees() or [])
    nodes = [
        {
            "depth": depth,
            "field": context.getFieldName() if context is not None else None,
            "function": function.getName() if function is not None else None,
            "children": len(children),
        }
    ]
    for child in children:
        nodes += _node(child, depth + 1)
    return nodes


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--block-file", required=True)
    parser.add_argument("--tree-out", required=True)
    parser.add_argument("--input", action="append", default=[], help="source=csv path")
    parser.add_argument("--fields", default="", help="comma-separated fields Zingg compares")
    parser.add_argument("--hashes-out")
    args = parser.parse_args()

    spark = SparkSession.builder.getOrCreate()
    jvm = spark.sparkContext._jvm
    raw = spark.read.parquet(args.block_file).head()[0]
    tree = jvm.zingg.common.client.util.Util.revertObjectFromByteArray(bytearray(raw))
    Path(args.tree_out).write_text(json.dumps(_node(tree, 0)))

    if args.hashes_out and args.input:
        fields = [f for f in args.fields.split(",") if f]
        frames = []
        for spec in args.input:
            source, path = spec.split("=", 1)
            frame = spark.read.csv(
                path, header=True, schema=", ".join(f"{f} string" for f in fields)
            )
            # Zingg's preprocessing before blocking: compared strings trimmed and lower-cased
            frame = frame.select(
                *(
                    F.col(f) if f == "record_id" else F.lower(F.trim(F.col(f))).alias(f)
                    for f in fields
                ),
                F.lit(source).alias("z_source"),
            )
            frames.append(frame)
        records = frames[0]
        for frame in frames[1:]:
            records = records.unionByName(frame)
        util = jvm.zingg.spark.core.util.SparkBlockingTreeUtil(spark._jsparkSession, None)
        hashed = util.getBlockHashes(jvm.zingg.spark.client.SparkFrame(records._jdf), tree).df()
        out = DataFrame(hashed, spark).select("record_id", "z_source", "z_hash")
        with open(args.hashes_out, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["record_id", "z_source", "z_hash"])
            writer.writerows(tuple(row) for row in out.toLocalIterator())
    spark.stop()


if __name__ == "__main__":
    main()
