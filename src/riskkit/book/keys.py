"""Ids to integer positions, once, at the boundary.

A real extract names loans, borrowers and collateral by text ids (``L0000001``). Looking text
ids up row by row is what made a million-loan book slow: pandas' ``Index.get_indexer`` and
``isin`` on Arrow-backed strings convert every value to a Python object first. Here ids are
matched with Arrow's hash kernels (``pyarrow.compute.index_in`` / ``is_in``) straight on the
Arrow buffers, and everything downstream works on integer positions; ids come back only for
output and error messages.

Examples
--------
>>> import pandas as pd
>>> loans = pd.Series(["L1", "L2", "L3"], dtype="str")
>>> positions(loans, pd.Series(["L3", "L1", "L9", "L3"], dtype="str")).tolist()
[2, 0, -1, 2]
>>> isin_values(pd.Series(["L3", "L9"], dtype="str"), loans).tolist()
[True, False]
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def _arrow(values, single: bool = False) -> pa.Array | pa.ChunkedArray | None:
    """``values`` as Arrow text (large_string) or int64, without copying Arrow-backed
    columns; None when Arrow cannot take them as such (mixed objects, floats, dates...).
    ``single``: one contiguous array (a lookup's value set)."""
    try:
        arr = pa.array(values) if not isinstance(values, pa.Array | pa.ChunkedArray) else values
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
        return None
    if single and isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    if pa.types.is_dictionary(arr.type):
        arr = pc.cast(arr, arr.type.value_type)
    if pa.types.is_string(arr.type):
        return arr.cast(pa.large_string())
    if pa.types.is_large_string(arr.type):
        return arr
    if pa.types.is_integer(arr.type):
        return arr.cast(pa.int64())
    return None


def _as_input(values):
    if isinstance(values, pd.Index | pd.Series):
        return values.array
    return values


def _categorical(values) -> pd.Categorical | None:
    arr = values.array if isinstance(values, pd.Index | pd.Series) else values
    return arr if isinstance(arr, pd.Categorical) else None


def _same_family(a: pa.Array, b: pa.Array) -> bool:
    return a.type == b.type  # both large_string or both int64 after _arrow


def positions(keys, values) -> np.ndarray:
    """Position in ``keys`` of every element of ``values`` (-1 where absent or missing), as
    int32 (int64 for more than 2**31 keys).

    With duplicate keys the first occurrence counts. Text ids never match integer ids (``1``
    is not ``"1"``).
    """
    cat = _categorical(values)
    if cat is not None:  # look up each category once
        at = positions(keys, cat.categories)
        codes = cat.codes
        if not len(at):
            return np.full(len(codes), -1, dtype=np.int64)
        if not len(codes) or codes.min() >= 0:  # no missing id: one gather, no temporaries
            return at.take(codes)
        return np.where(codes >= 0, at[np.maximum(codes, 0)], -1).astype(at.dtype)
    k, v = _arrow(_as_input(keys), single=True), _arrow(_as_input(values))
    if k is not None and v is not None and _same_family(k, v):
        out = pc.index_in(v, value_set=k, skip_nulls=True).fill_null(-1)
        if isinstance(out, pa.ChunkedArray):
            out = out.combine_chunks() if out.num_chunks != 1 else out.chunk(0)
        return out.to_numpy(zero_copy_only=False)
    idx = pd.Index(np.asarray(keys, dtype=object))
    first = np.flatnonzero(~idx.duplicated())  # positions of the first occurrences
    vals = np.asarray(values, dtype=object)
    pos = idx[first].get_indexer(vals)
    if not len(first):
        return np.full(len(vals), -1, dtype=np.int64)
    return np.where((pos >= 0) & ~pd.isna(vals), first[np.maximum(pos, 0)], -1).astype(np.int64)


def isin_values(s, values) -> np.ndarray:
    """``s.isin(values)`` as a bool array, hashed on Arrow buffers where the ids are text or
    integers (missing ids are never in ``values``)."""
    cat = _categorical(s)
    if cat is not None:  # test each category once
        hit = isin_values(cat.categories, values)
        if not len(hit):
            return np.zeros(len(cat), dtype=bool)
        return np.where(cat.codes >= 0, hit[np.maximum(cat.codes, 0)], False)
    k, v = _arrow(_as_input(values), single=True), _arrow(_as_input(s))
    if k is not None and v is not None and _same_family(k, v):
        out = pc.is_in(v, value_set=k, skip_nulls=True)
        return out.fill_null(False).to_numpy(zero_copy_only=False).astype(bool, copy=False)
    vals = pd.unique(np.asarray(values, dtype=object))
    return pd.Series(np.asarray(s, dtype=object)).isin(vals).to_numpy(dtype=bool)


def factorize_ids(values) -> tuple[np.ndarray, pd.Index]:
    """Integer codes (0..k-1 in order of first appearance, -1 for missing) and the distinct
    ids, like :func:`pandas.factorize` but on the Arrow buffers for text ids."""
    cat = _categorical(values)
    if cat is not None:
        return cat.codes.astype(np.int64), pd.Index(cat.categories)
    v = _arrow(_as_input(values))
    if v is None:
        if not isinstance(values, pd.Series | pd.Index):
            values = np.asarray(values, dtype=object)
        codes, uniq = pd.factorize(values)
        return codes.astype(np.int64), pd.Index(uniq)
    if isinstance(v, pa.ChunkedArray):
        v = v.combine_chunks() if v.num_chunks != 1 else v.chunk(0)
    enc = pc.dictionary_encode(v)
    codes = enc.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    dic = enc.dictionary
    uniq = pd.Index(dic.to_pandas(types_mapper=None)) if pa.types.is_integer(dic.type) else None
    if uniq is None:
        uniq = pd.Index(pd.array(dic.cast(pa.string()), dtype="str"))
    return codes, uniq
