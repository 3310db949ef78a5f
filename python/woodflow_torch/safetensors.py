"""A reader and writer of safetensors files, written against the format's specification, with numpy only.

Layout: 8 bytes (little-endian unsigned 64-bit) giving N, then N bytes of UTF-8 JSON, then the raw data. The JSON maps
each tensor name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets relative to the end of the header), and
an optional "__metadata__" maps strings to strings. Data are little-endian and C-ordered.

woodflow adds the SHA-256 of the data section (everything after the header) to the metadata as "sha256", and that of
the header (metadata, the run config among it, and the tensor table, in the canonical form of header_digest) as
"header_sha256"; the reader checks both, as woodflow's own reader does, so a torn or damaged checkpoint, or one whose
run config was changed, is refused instead of giving plausible wrong numbers. A file written before "header_sha256"
existed is read as before. Every problem is a CheckpointError naming the file.
"""
import hashlib
import json
import math
import os
import struct

import numpy as np

from .errors import CheckpointError

_DTYPES = {
    "F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1", "U8": "u1",
    "BOOL": "?",
}
_MAX_HEADER = 100_000_000  # the format's limit on the JSON header
_PICKLE_LEGACY = bytes([0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19])


def _kind_of(raw):
    """What a file that is not safetensors is, by its first bytes (for the message), or None."""
    if raw[:4] == b"PK\x03\x04":
        return ("a torch.save (.pt) file, not a woodflow checkpoint: woodflow_torch reads woodflow's .safetensors "
                "checkpoints (to bring a .pt into woodflow, use `woodflow import`)")
    if raw[:len(_PICKLE_LEGACY)] == _PICKLE_LEGACY or raw[:1] == b"\x80" and raw[1:2] in (b"\x02", b"\x03",
                                                                                      b"\x04", b"\x05"):
        return ("a Python pickle (a torch.save file of PyTorch's older format?), not a woodflow checkpoint: "
                "woodflow_torch reads woodflow's .safetensors checkpoints")
    return None


def read(path):
    """Returns (tensors, metadata): a dict of numpy arrays by name, and the metadata dict (empty if none). Raises
    CheckpointError naming the file when it is empty, truncated, not safetensors, or fails its checksum."""
    name = os.fspath(path)
    try:
        with open(name, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise CheckpointError(f"checkpoint {name} does not exist") from None
    except IsADirectoryError:
        raise CheckpointError(f"{name} is a folder: give a checkpoint file or a run folder") from None
    except OSError as e:
        raise CheckpointError(f"cannot read {name}: {e.strerror or e}") from None
    if len(raw) == 0:
        raise CheckpointError(f"{name} is empty (0 bytes), not a woodflow checkpoint: it was not written, or was "
                              f"cut off; use another checkpoint of the run (checkpoints/ckpt-*.safetensors)")
    if len(raw) < 8:
        kind = _kind_of(raw)
        raise CheckpointError(f"{name} is {kind}" if kind else f"{name} is truncated: {len(raw)} bytes, not a "
                                                               f"safetensors file")
    (n,) = struct.unpack("<Q", raw[:8])
    if n == 0 or n > _MAX_HEADER or len(raw) > 8 and raw[8:9] != b"{":
        kind = _kind_of(raw)
        raise CheckpointError(f"{name} is {kind}" if kind else f"{name} is not a safetensors file (its first 8 bytes "
                                                               f"give a header of {n} bytes, and a header begins "
                                                               f"with '{{')")
    if n > len(raw) - 8:
        raise CheckpointError(f"{name} is truncated: its header alone needs {8 + n} bytes but the file has "
                              f"{len(raw)}")
    try:
        header = json.loads(raw[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        kind = _kind_of(raw)
        if kind is not None:
            raise CheckpointError(f"{name} is {kind}") from None
        raise CheckpointError(f"{name} has a corrupt safetensors header (not valid JSON: "
                              f"{getattr(e, 'msg', None) or 'undecodable bytes'})") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{name} has a corrupt safetensors header (a {_json_kind(header)} where a mapping of "
                              f"tensors goes)")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise CheckpointError(f"{name} has a corrupt safetensors header (its __metadata__ is not a mapping of "
                              f"text to text)")
    entries = {}
    data_end = 0
    for key, info in header.items():
        entries[key] = _entry(name, key, info)
        data_end = max(data_end, entries[key][2][1])
    base = 8 + n
    if base + data_end > len(raw):
        raise CheckpointError(f"{name} is truncated: its header describes {base + data_end} bytes but the file has "
                              f"{len(raw)}")
    expected = metadata.get("sha256")
    if expected is not None and hashlib.sha256(memoryview(raw)[base:]).hexdigest() != expected:
        raise CheckpointError(f"{name} is corrupt: its data does not match the checksum in its header (the file "
                              f"was damaged or only partly written); use another checkpoint of the run")
    expected = metadata.get(HEADER_SHA256)
    if expected is not None and header_digest({"__metadata__": metadata, **header}) != expected:
        raise CheckpointError(f"{name} is corrupt: its header (run config and tensor table) does not match the "
                              f"checksum in its header (the file was damaged after it was written); use another "
                              f"checkpoint of the run")
    data = memoryview(raw)[base:]
    tensors = {}
    for key, (dtype, shape, (begin, end)) in entries.items():
        tensors[key] = np.frombuffer(data[begin:end], dtype=dtype).reshape(shape).copy()
    return tensors, metadata


HEADER_SHA256 = "header_sha256"


def header_digest(header):
    """The SHA-256 (hex) of a parsed header in canonical form, as woodflow's SafeTensors.headerDigest: the number of
    metadata entries other than "header_sha256", then each in the order of its key's UTF-8 bytes as key and value;
    then the number of tensors, then each in the order of its name's UTF-8 bytes as its name and the text
    "DTYPE D0,D1,... BEGIN END". Every count is a little-endian u32, every text a little-endian u32 byte length and its
    UTF-8 bytes."""
    metadata = {k: v for k, v in (header.get("__metadata__") or {}).items() if k != HEADER_SHA256}
    table = {k: f"{v['dtype']} {','.join(str(d) for d in v['shape'])} {v['data_offsets'][0]} {v['data_offsets'][1]}"
             for k, v in header.items() if k != "__metadata__"}
    digest = hashlib.sha256()
    for part in (metadata, table):
        digest.update(struct.pack("<I", len(part)))
        for key in sorted(part, key=lambda k: k.encode("utf-8")):
            for text in (key.encode("utf-8"), str(part[key]).encode("utf-8")):
                digest.update(struct.pack("<I", len(text)))
                digest.update(text)
    return digest.hexdigest()


def _json_kind(v):
    return {list: "list", str: "text", int: "number", float: "number", bool: "true/false",
            type(None): "null"}.get(type(v), "value")


def _entry(name, key, info):
    """(numpy dtype, shape, (begin, end)) of a header entry, checked against the format."""
    where = f"{name} has a corrupt safetensors header (tensor {key}"
    if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
        raise CheckpointError(f"{where}: expected dtype, shape and data_offsets)")
    dtype = _DTYPES.get(info["dtype"]) if isinstance(info["dtype"], str) else None
    if dtype is None:
        raise CheckpointError(f"{where} has dtype {info['dtype']}, which this reader does not read (it reads "
                              f"{', '.join(_DTYPES)}))")
    shape, offsets = info["shape"], info["data_offsets"]
    if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0
                                              for d in shape):
        raise CheckpointError(f"{where}: its shape {shape} is not a list of sizes)")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(o, int) and not isinstance(o, bool)
                                                                    for o in offsets)
            and 0 <= offsets[0] <= offsets[1]):
        raise CheckpointError(f"{where}: its data_offsets {offsets} are not [begin, end])")
    size = math.prod(shape) * np.dtype(dtype).itemsize
    if offsets[1] - offsets[0] != size:
        raise CheckpointError(f"{where}: its shape {shape} needs {size} bytes, its offsets give "
                              f"{offsets[1] - offsets[0]})")
    return np.dtype(dtype), tuple(shape), tuple(offsets)


def write(path, tensors, metadata=None):
    """Writes a dict of numpy arrays (float32, float64, int64, ...) and an optional str -> str metadata dict, with the
    SHA-256 of the data section ("sha256") and of the header ("header_sha256") in the metadata, as woodflow writes
    them."""
    inverse = {np.dtype(v).str: k for k, v in _DTYPES.items()}
    header, blobs, offset = {}, [], 0
    digest = hashlib.sha256()
    for name, arr in tensors.items():
        arr = np.ascontiguousarray(arr)
        arr = arr.astype(arr.dtype.newbyteorder("<")) if arr.dtype.byteorder == ">" else arr
        code = inverse.get(arr.dtype.str)
        if code is None:
            raise ValueError(f"tensor {name}: dtype {arr.dtype} cannot be written to safetensors by this writer")
        b = arr.tobytes()
        header[name] = {"dtype": code, "shape": list(arr.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        digest.update(b)
        offset += len(b)
    meta = {str(k): str(v) for k, v in (metadata or {}).items()}
    meta["sha256"] = digest.hexdigest()
    header = {"__metadata__": meta, **header}
    meta[HEADER_SHA256] = header_digest(header)
    head = json.dumps(header).encode("utf-8")
    head += b" " * ((8 - len(head) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)))
        f.write(head)
        for b in blobs:
            f.write(b)
