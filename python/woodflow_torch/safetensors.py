"""A reader and writer of safetensors files, written against the format's specification, with numpy only.

Layout: 8 bytes (little-endian unsigned 64-bit) giving N, then N bytes of UTF-8 JSON, then the raw data. The JSON maps
each tensor name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets relative to the end of the header), and
an optional "__metadata__" maps strings to strings. Data are little-endian and C-ordered.
"""
import json
import struct

import numpy as np

_DTYPES = {
    "F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1", "U8": "u1",
    "BOOL": "?",
}


def read(path):
    """Returns (tensors, metadata): a dict of numpy arrays by name, and the metadata dict (empty if none)."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"{path}: not a safetensors file (only {len(raw)} bytes)")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > len(raw) - 8:
        raise ValueError(f"{path}: not a safetensors file (header length {n} exceeds the file size {len(raw)})")
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = memoryview(raw)[8 + n:]
    metadata = header.pop("__metadata__", None) or {}
    tensors = {}
    for name, info in header.items():
        dtype = _DTYPES.get(info["dtype"])
        if dtype is None:
            raise ValueError(f"{path}: tensor {name} has dtype {info['dtype']}, which this reader does not support "
                             f"(supported: {', '.join(_DTYPES)})")
        begin, end = info["data_offsets"]
        shape = tuple(info["shape"])
        arr = np.frombuffer(data[begin:end], dtype=dtype)
        expected = int(np.prod(shape)) if shape else 1
        if arr.size != expected:
            raise ValueError(f"{path}: tensor {name} holds {arr.size} values, its shape {list(shape)} needs {expected}")
        tensors[name] = arr.reshape(shape).copy()
    return tensors, metadata


def write(path, tensors, metadata=None):
    """Writes a dict of numpy arrays (float32, float64, int64, ...) and an optional str -> str metadata dict."""
    inverse = {np.dtype(v).str: k for k, v in _DTYPES.items()}
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name, arr in tensors.items():
        arr = np.ascontiguousarray(arr)
        arr = arr.astype(arr.dtype.newbyteorder("<")) if arr.dtype.byteorder == ">" else arr
        code = inverse.get(arr.dtype.str)
        if code is None:
            raise ValueError(f"tensor {name}: dtype {arr.dtype} cannot be written to safetensors by this writer")
        b = arr.tobytes()
        header[name] = {"dtype": code, "shape": list(arr.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    head = json.dumps(header).encode("utf-8")
    head += b" " * ((8 - len(head) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)))
        f.write(head)
        for b in blobs:
            f.write(b)
