"""woodflow_torch reads a checkpoint as strictly as woodflow does (issue 31): the checksum woodflow writes is verified,
and every damaged, empty, foreign or truncated file gives one line ``woodflow_torch: error: ...`` -- as the message
of ``woodflow_torch.CheckpointError`` in the module, and on stderr with a non-zero exit from
``python3 -m woodflow_torch`` -- never a traceback and never a number.

Run: PYTHONPATH=python /usr/bin/python3 -m unittest discover -s python/tests   (the Maven suite runs it:
PythonReaderTest). A checkpoint written by woodflow itself is used when WOODFLOW_TEST_CHECKPOINT names one;
otherwise the tests write a woodflow-format checkpoint of a tiny model with the module's own writer.
"""
import contextlib
import hashlib
import io
import json
import os
import struct
import subprocess
import sys
import tempfile
import unittest
import zipfile

import numpy as np
import torch

import woodflow_torch
from woodflow_torch import safetensors

PREFIX = "woodflow_torch: error: "
TINY = {"description": "reader test",
        "model": {"channels": 1, "height": 8, "width": 8, "levels": 2, "steps": 1, "hidden": 8,
                  "permutation": "woodbury", "d_c": [2, 2], "d_s": [4, 4]},
        "data": {"kind": "embedded", "n_bits": 8}, "train": {"eval_seed": 4321}}


def woodflow_format_checkpoint(path):
    """A checkpoint in woodflow's layout: model.* tensors (random, so the bpd is finite), the run config, the
    iteration and the SHA-256 of the data section, as woodflow's SafeTensors writes them."""
    model = woodflow_torch.build(TINY)
    torch.manual_seed(0)
    tensors = {}
    for name, t in model.state_dict().items():
        value = torch.randn(t.shape, dtype=torch.float64) * 0.01 if t.is_floating_point() else t
        if name.endswith("initialised"):
            value = torch.ones_like(t)
        tensors["model." + name] = value.to(t.dtype).numpy()
    safetensors.write(path, tensors, {"config": json.dumps(TINY), "iteration": "7"})


def idx_file(path, n=8):
    images = np.random.RandomState(1).randint(0, 256, (n, 8, 8)).astype(np.uint8)
    with open(path, "wb") as f:
        f.write(struct.pack(">IIII", 0x803, n, 8, 8) + images.tobytes())


def command(*args):
    """``python3 -m woodflow_torch ARGS`` in this process (starting Python and torch anew for each case would take a
    minute): the exit code, stdout and stderr. test_the_module_runs_as_a_command runs it as its own process."""
    from woodflow_torch import __main__ as cli
    out, err = io.StringIO(), io.StringIO()
    argv = sys.argv
    sys.argv = ["python3 -m woodflow_torch", *args]
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            cli.run()
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    finally:
        sys.argv = argv
    return code, out.getvalue(), err.getvalue()


class ReaderTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.dir = cls.tmp.name
        given = os.environ.get("WOODFLOW_TEST_CHECKPOINT")
        cls.good = given if given else os.path.join(cls.dir, "good.safetensors")
        if not given:
            woodflow_format_checkpoint(cls.good)
        with open(cls.good, "rb") as f:
            cls.bytes = f.read()
        (cls.header_length,) = struct.unpack("<Q", cls.bytes[:8])
        cls.idx = os.path.join(cls.dir, "images.idx")
        idx_file(cls.idx)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def variant(self, name, data):
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def refused(self, path, *words):
        """The module raises CheckpointError with one line; the command prints that line and exits non-zero."""
        with self.assertRaises(woodflow_torch.CheckpointError) as caught:
            woodflow_torch.load(path)
        message = str(caught.exception)
        self.assertTrue(message.startswith(PREFIX), message)
        self.assertNotIn("\n", message)
        for w in words:
            self.assertIn(w, message)
        self.assertIn(os.path.basename(path), message)
        code, out, err = command(path, "--idx", self.idx)
        self.assertNotEqual(code, 0, out + err)
        self.assertEqual(out, "")
        self.assertEqual(err.strip(), message, err)
        self.assertNotIn("Traceback", err)
        return message

    def test_an_intact_checkpoint_loads_and_evaluates(self):
        model = woodflow_torch.load(self.good)
        self.assertEqual(model.checkpoint, self.good)
        code, out, err = command(self.good, "--idx", self.idx)
        self.assertEqual(code, 0, err)
        self.assertRegex(out, r"^test bpd \d+\.\d{6} over 8 images")

    def test_the_module_runs_as_a_command(self):
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
        good = subprocess.run([sys.executable, "-m", "woodflow_torch", self.good, "--idx", self.idx],
                              capture_output=True, text=True, env=env, timeout=300)
        self.assertEqual(good.returncode, 0, good.stderr)
        self.assertRegex(good.stdout, r"^test bpd \d+\.\d{6} over 8 images")
        cut = self.variant("cut-command.safetensors", self.bytes[:len(self.bytes) // 2])
        bad = subprocess.run([sys.executable, "-m", "woodflow_torch", cut, "--idx", self.idx], capture_output=True,
                             text=True, env=env, timeout=300)
        self.assertEqual(bad.returncode, 1)
        self.assertEqual(bad.stdout, "")
        self.assertEqual(bad.stderr, f"{PREFIX}{cut} is truncated: its header describes {len(self.bytes)} bytes but "
                                     f"the file has {len(self.bytes) // 2}\n")

    def test_one_flipped_byte_in_the_data_fails_the_checksum(self):
        base = 8 + self.header_length
        for where in (base, base + (len(self.bytes) - base) // 2, len(self.bytes) - 1):
            damaged = bytearray(self.bytes)
            damaged[where] ^= 0x01
            self.refused(self.variant(f"flip-{where}.safetensors", bytes(damaged)),
                         "is corrupt: its data does not match the checksum in its header")

    def test_a_changed_checksum_in_the_header_is_caught(self):
        meta_start = self.bytes.index(b'"sha256"')
        digit = self.bytes.index(b'"', meta_start + len(b'"sha256"') + 1) + 1
        damaged = bytearray(self.bytes)
        damaged[digit] = ord("0") if damaged[digit] != ord("0") else ord("1")
        self.refused(self.variant("sha.safetensors", bytes(damaged)), "does not match the checksum")

    def test_a_changed_run_config_or_tensor_table_fails_the_header_checksum(self):
        header = json.loads(self.bytes[8:8 + self.header_length])
        self.assertIn("header_sha256", header["__metadata__"])
        config = header["__metadata__"]["config"]
        for i, (old, new) in enumerate(((config, config.replace('"n_bits"', '"n_bitz"', 1)),
                                        (b'"model.', b'"modem.'))):
            if isinstance(old, str):  # the config as it is escaped inside the header's JSON
                old, new = json.dumps(old).encode()[1:-1], json.dumps(new).encode()[1:-1]
            damaged = self.bytes.replace(old, new, 1)
            self.assertNotEqual(damaged, self.bytes)
            self.refused(self.variant(f"header-sum-{i}.safetensors", damaged),
                         "is corrupt: its header (run config and tensor table) does not match the checksum in its "
                         "header", "use another checkpoint of the run")

    def test_a_checkpoint_without_the_header_checksum_still_reads(self):
        header = json.loads(self.bytes[8:8 + self.header_length])
        del header["__metadata__"]["header_sha256"]
        head = json.dumps(header).encode()
        head += b" " * ((8 - len(head) % 8) % 8)
        path = self.variant("before-header-sum.safetensors",
                            struct.pack("<Q", len(head)) + head + self.bytes[8 + self.header_length:])
        tensors, meta = safetensors.read(path)
        self.assertNotIn("header_sha256", meta)
        code, out, err = command(path, "--idx", self.idx)
        self.assertEqual((code, err), (0, ""))

    def test_the_header_checksum_is_woodflows(self):
        """The writer's canonical header digest is the one woodflow's SafeTensors writes (WOODFLOW_TEST_CHECKPOINT)."""
        header = json.loads(self.bytes[8:8 + self.header_length])
        self.assertEqual(header["__metadata__"]["header_sha256"], safetensors.header_digest(header))

    def test_truncated_files_are_named_as_truncated(self):
        for size in (0, 4, 8, 8 + self.header_length // 2, 8 + self.header_length, len(self.bytes) - 1):
            path = self.variant(f"cut-{size}.safetensors", self.bytes[:size])
            words = ("is empty (0 bytes)",) if size == 0 else ("truncated",)
            self.refused(path, *words)

    def test_a_damaged_header_is_named(self):
        for i, (old, new) in enumerate(((b'"dtype"', b'"dtypo"'), (b'"shape"', b'"shope"'), (b"{", b"["),
                                        (b'"data_offsets"', b'"data_offsetz"'))):
            damaged = self.bytes.replace(old, new, 1)
            self.assertNotEqual(damaged, self.bytes)
            self.refused(self.variant(f"header-{i}.safetensors", damaged), "header")
        garbage = bytearray(self.bytes)
        garbage[8:12] = b"\xff\xfe\x00\x01"
        self.refused(self.variant("header-bytes.safetensors", bytes(garbage)), "header")
        # offsets that disagree with the shape
        header = json.loads(self.bytes[8:8 + self.header_length])
        name = next(k for k in header if k != "__metadata__")
        header[name]["shape"] = [int(np.prod(header[name]["shape"])) + 1]
        head = json.dumps(header).encode()
        head += b" " * ((8 - len(head) % 8) % 8)
        data = struct.pack("<Q", len(head)) + head + self.bytes[8 + self.header_length:]
        self.refused(self.variant("shape.safetensors", data), name)

    def test_a_pt_file_and_foreign_files_are_named_for_what_they_are(self):
        pt = os.path.join(self.dir, "model.pt")
        torch.save({"w": torch.zeros(2)}, pt)
        self.refused(pt, "is a torch.save (.pt) file, not a woodflow checkpoint")
        self.refused(self.variant("notes.safetensors", b"these are my notes, not a checkpoint\n"),
                     "is not a safetensors file")
        # a safetensors file that woodflow did not write (no run config)
        plain = os.path.join(self.dir, "plain.safetensors")
        safetensors.write(plain, {"x": np.zeros(3, dtype=np.float32)})
        self.refused(plain, "not a woodflow checkpoint (no run config in its metadata)")
        folder = os.path.join(self.dir, "empty-run")
        os.makedirs(folder, exist_ok=True)
        self.refused(folder, "holds no checkpoint")
        self.refused(os.path.join(self.dir, "missing.safetensors"), "does not exist")

    def test_the_writer_adds_the_checksum_the_reader_checks(self):
        path = os.path.join(self.dir, "written.safetensors")
        safetensors.write(path, {"a": np.arange(6, dtype=np.float32).reshape(2, 3)}, {"k": "v"})
        tensors, meta = safetensors.read(path)
        with open(path, "rb") as f:
            raw = f.read()
        (n,) = struct.unpack("<Q", raw[:8])
        self.assertEqual(meta["sha256"], hashlib.sha256(raw[8 + n:]).hexdigest())
        self.assertEqual(meta["header_sha256"], safetensors.header_digest(json.loads(raw[8:8 + n])))
        self.assertEqual(meta["k"], "v")
        np.testing.assert_array_equal(tensors["a"], np.arange(6, dtype=np.float32).reshape(2, 3))

    def test_averaged_weights_asked_of_a_checkpoint_without_them_name_the_fix_where_it_is_given(self):
        with self.assertRaises(woodflow_torch.CheckpointError) as caught:
            woodflow_torch.load(self.good, weights="ema")
        self.assertIn("holds no averaged weights", str(caught.exception))
        self.assertTrue(str(caught.exception).endswith("use weights='raw'"), caught.exception)
        code, out, err = command(self.good, "--idx", self.idx, "--weights", "ema")
        self.assertEqual(code, 1, out + err)
        self.assertTrue(err.strip().endswith("use --weights raw"), err)
        self.assertNotIn("weights='raw'", err)

    def test_bad_arguments_and_a_bad_image_file_give_one_line(self):
        for args in ([self.good, "--limit", "many"], [self.good, "--idx", os.path.join(self.dir, "none.idx")],
                     [self.good, "--idx", self.variant("bad.idx", b"\x00\x00\x08\x03\x00\x00")],
                     [self.good, "--idx", self.variant("short.idx", struct.pack(">IIII", 0x803, 5, 8, 8) + b"x")],
                     [self.good], [self.good, "--batch", "0"]):
            code, out, err = command(*args)
            self.assertNotEqual(code, 0, args)
            self.assertEqual(len(err.strip().splitlines()), 1, err)
            self.assertTrue(err.startswith(PREFIX), err)
            self.assertNotIn("Traceback", err)


if __name__ == "__main__":
    unittest.main()
