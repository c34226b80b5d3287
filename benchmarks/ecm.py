"""The baseline a data engineer would reach for first: recordlinkage's ECM, unsupervised.

Blocking on postcode, on date of birth and a sorted neighbourhood on surname; Jaro-Winkler
(0.85) on the names, address and town, exact agreement on postcode and date of birth, and on
email and phone when the records carry any. An empty value is missing, never an agreement.
"""

from __future__ import annotations

import pandas as pd
import recordlinkage


def ecm_pairs(records: list[dict[str, str]]) -> set[tuple[str, str]]:
    frame = pd.DataFrame(records).set_index("record_id").replace("", None)
    indexer = recordlinkage.Index()
    indexer.block("postcode")
    indexer.block("dob")
    indexer.sortedneighbourhood("last_name", window=5)
    candidates = indexer.index(frame)
    compare = recordlinkage.Compare()
    for field in ("first_name", "last_name", "address", "city"):
        compare.string(field, field, method="jarowinkler", threshold=0.85, label=field)
    exact = ["postcode", "dob", *(f for f in ("email", "phone") if frame[f].notna().any())]
    for field in exact:
        compare.exact(field, field, label=field)
    features = compare.compute(candidates, frame)
    matches = recordlinkage.ECMClassifier(binarize=None).fit_predict(features)
    return {tuple(sorted(p)) for p in matches}  # type: ignore[misc]
