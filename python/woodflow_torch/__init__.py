"""woodflow_torch: open a woodflow run or checkpoint in PyTorch, with the same bits per dimension as woodflow.

    import torch, woodflow_torch
    model = woodflow_torch.load("runs/fm")                         # a run folder means its best checkpoint
    x = woodflow_torch.dequantize(images_uint8, model.n_bits)      # (B, C, H, W) uint8 -> [-0.5, 0.5)
    bpd = model.bits_per_dim(x)                                    # per image, as `woodflow eval`
    grid = woodflow_torch.to_pixels(model.sample(16, 0.7), model.n_bits)

Needs only PyTorch and numpy (the checkpoint is read by this package's own safetensors reader, which checks the
SHA-256 woodflow writes). The architecture comes from the run config stored in the checkpoint itself (the same config
as the run's config.yaml). A file that is not an intact woodflow checkpoint raises CheckpointError, whose message is
one line, ``woodflow_torch: error: ...``, naming the file. The variational dequantiser of a run with
data.dequantization: variational is built and loaded too (model.dequantizer; model.dequantize(c, e) gives x~ and
log q, and bits_per_dim(x~, log_q=log_q) the figure woodflow reports; evaluate() does both).
"""
import json
import os

import torch

from . import safetensors
from .errors import CheckpointError, DataError, Error, UnsupportedModelError
from .model import MultiScaleFlow, VariationalDequantizer, SUPPORTED_COUPLINGS, SUPPORTED_PERMUTATIONS

__all__ = ["load", "load_config", "build", "dequantize", "to_pixels", "evaluate", "read_idx", "MultiScaleFlow",
           "VariationalDequantizer", "Error", "CheckpointError", "DataError", "UnsupportedModelError"]

_DEFAULTS = dict(channels=3, height=32, levels=3, steps=8, hidden=512, permutation="woodbury", coupling="affine",
                 learn_top=True, logscale_factor=1.0, kernel=3, spline_bins=4, spline_bound=3.0)


def resolve(path):
    """A checkpoint file, or a run folder: its checkpoints/best.safetensors, else its newest ckpt-*.safetensors."""
    path = os.fspath(path)
    if os.path.isdir(path):
        best = os.path.join(path, "checkpoints", "best.safetensors")
        if os.path.exists(best):
            return best
        folder = os.path.join(path, "checkpoints")
        ckpts = sorted(f for f in os.listdir(folder) if f.startswith("ckpt-") and f.endswith(".safetensors")) \
            if os.path.isdir(folder) else []
        if not ckpts:
            raise CheckpointError(f"run folder {path} holds no checkpoint (no checkpoints/*.safetensors): give a run "
                                  f"folder that woodflow has trained, or a checkpoint file")
        return os.path.join(folder, ckpts[-1])
    if not os.path.exists(path):
        raise CheckpointError(f"checkpoint {path} does not exist")
    return path


def model_config(model):
    """woodflow's ModelConfig with its defaults filled in (as the Java record does)."""
    cfg = dict(_DEFAULTS)
    cfg.update({k: v for k, v in model.items() if v is not None})
    cfg.setdefault("width", cfg["height"])
    for key in ("d_c", "d_s", "d_h", "d_w"):
        if cfg.get(key) is None:
            cfg[key] = [16] * cfg["levels"]
    cfg["permutation"] = cfg["permutation"].lower()
    cfg["coupling"] = cfg["coupling"].lower()
    return cfg


def check_supported(cfg):
    problems = []
    if cfg["permutation"] not in SUPPORTED_PERMUTATIONS:
        problems.append(f"permutation '{cfg['permutation']}' (supported: {', '.join(SUPPORTED_PERMUTATIONS)})")
    if cfg["coupling"] not in SUPPORTED_COUPLINGS:
        problems.append(f"coupling '{cfg['coupling']}' (supported: {', '.join(SUPPORTED_COUPLINGS)})")
    if str(cfg.get("conditional") or "none").lower() != "none":
        problems.append("class-conditional priors (model.conditional: class)")
    if problems:
        raise UnsupportedModelError("woodflow_torch does not implement " + " and ".join(problems)
                                    + "; evaluate this model with woodflow itself")


def load_config(path):
    """The run config (a dict: model, data, train) stored in a checkpoint's metadata."""
    file = resolve(path)
    return _run_config(file, safetensors.read(file)[1])


def _run_config(file, meta):
    if "config" not in meta:
        raise CheckpointError(f"{file} is a safetensors file but not a woodflow checkpoint (no run config in its "
                              f"metadata): give a checkpoint that woodflow wrote")
    try:
        config = json.loads(meta["config"])
    except ValueError:
        config = None
    if not isinstance(config, dict) or not isinstance(config.get("model", {}), dict):
        raise CheckpointError(f"{file} has a corrupt run config in its metadata: use another checkpoint of the run")
    return config


def dequantizer_config(run_config):
    """(steps, hidden) of the run's variational dequantiser, or None for uniform dequantisation."""
    data = run_config.get("data") or {}
    if (data.get("dequantization") or "uniform").lower() != "variational":
        return None
    return data.get("dequantizer_steps") or 4, data.get("dequantizer_hidden") or 32


def build(run_config):
    """An uninitialised model (zero parameters) of a run config dict; load a state into it."""
    cfg = model_config(run_config.get("model", {}))
    check_supported(cfg)
    n_bits = (run_config.get("data") or {}).get("n_bits") or 8
    return MultiScaleFlow(cfg, n_bits, dequantizer_config(run_config))


def load(path, dtype=torch.float32, device="cpu", weights=None, *, _command=False):
    """The model of a woodflow run folder (its best checkpoint) or checkpoint file, in evaluation mode.

    weights: "raw" (as trained) or "ema" (the moving average of the weights, kept when train.ema is on); None takes
    the averaged ones when the checkpoint holds them, as woodflow's commands do. _command: called by
    ``python3 -m woodflow_torch``, whose advice names its option (--weights raw) instead of this argument.
    """
    file = resolve(path)
    tensors, meta = safetensors.read(file)
    run_config = _run_config(file, meta)
    try:
        model = build(run_config)
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise CheckpointError(f"{file}: its run config does not describe a model woodflow_torch can build "
                              f"({e}); evaluate it with woodflow itself") from None
    has_average = any(k.startswith("ema.") for k in tensors)
    if weights is None:
        weights = "ema" if has_average else "raw"
    if weights not in ("raw", "ema"):
        raise ValueError(f"weights must be 'raw' or 'ema', got {weights!r}")
    if weights == "ema" and not has_average:
        raise CheckpointError(f"checkpoint {file} holds no averaged weights (its run trained without train.ema); "
                              + ("use --weights raw" if _command else "use weights='raw'"))
    state = {k[len("model."):]: torch.from_numpy(v) for k, v in tensors.items() if k.startswith("model.")}
    if weights == "ema":
        # the averaged parameters replace the trained ones; buffers stay the trained model's
        state.update({k[len("ema."):]: torch.from_numpy(v) for k, v in tensors.items() if k.startswith("ema.")})
    result = model.load_state_dict(state, strict=False)
    wrong = [k for k, v in state.items() if k in model.state_dict() and model.state_dict()[k].shape != v.shape]
    if result.missing_keys or result.unexpected_keys or wrong:
        first = (result.missing_keys and f"missing {result.missing_keys[0]}" or result.unexpected_keys
                 and f"unexpected {result.unexpected_keys[0]}" or f"{wrong[0]} has the wrong shape")
        raise CheckpointError(f"checkpoint {file} does not fit the model its config describes ({first}; "
                              f"{len(result.missing_keys)} missing, {len(result.unexpected_keys)} unexpected, "
                              f"{len(wrong)} of another shape)")
    model.run_config = run_config
    model.checkpoint = file
    try:
        model.iteration = int(meta.get("iteration", "0"))
    except ValueError:
        raise CheckpointError(f"{file} has a corrupt iteration in its metadata ({meta.get('iteration')!r})") from None
    model.weights = weights
    return model.to(device=device, dtype=dtype).eval()


def dequantize(images, n_bits=8, generator=None):
    """uint8 images (B, C, H, W) -> x_b / n_bins - 0.5 + u, u ~ U(0, 1/n_bins) (woodflow's data/Quantization)."""
    bins = 2 ** n_bits
    x = images.to(torch.float32)
    if n_bits < 8:
        x = torch.floor(x / 2 ** (8 - n_bits))
    x = x / bins - 0.5
    return x + torch.rand(x.shape, generator=generator, dtype=x.dtype) / bins


def to_pixels(x, n_bits=8):
    """Model space back to uint8 pixels: floor((x + 0.5) n_bins) * (256 / n_bins), clamped to [0, 255]."""
    bins = 2 ** n_bits
    return torch.floor((x + 0.5) * bins).mul(256.0 / bins).clamp(0, 255).to(torch.uint8)


@torch.no_grad()
def evaluate(model, images, batch=100, noise_seed=4321):
    """Mean test bpd as `woodflow eval` computes it: batches of `batch` images dequantised in order with noise from
    torch.manual_seed(noise_seed) (woodflow's eval_seed, 4321 by default): uniform noise, or the variational
    dequantiser's from N(0, I) draws, as the model was trained. Returns (mean, per-image tensor)."""
    torch.manual_seed(noise_seed)
    out = []
    dtype = next(model.parameters()).dtype
    for i in range(0, len(images), batch):
        x = images[i:i + batch].to(torch.float32)
        bins = 2 ** model.n_bits
        if model.n_bits < 8:
            x = torch.floor(x / 2 ** (8 - model.n_bits))
        x = x / bins - 0.5
        noise = torch.rand_like(x) if model.dequantizer is None else torch.randn_like(x)  # float32, as woodflow's
        x, log_q = model.dequantize(x.to(dtype), noise.to(dtype))
        out.append(model.bits_per_dim(x, log_q=log_q))
    per_image = torch.cat(out)
    return per_image.double().mean().item(), per_image


def read_idx(path, limit=None, size=None):
    """Images of an IDX file (plain or .gz, as Fashion-MNIST's), as a (N, 1, H, W) uint8 tensor, zero-padded
    equally on every side to size x size when size is given (woodflow pads Fashion-MNIST to 32)."""
    import gzip
    import zlib
    import numpy as np
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise DataError(f"image file {path} does not exist") from None
    except (OSError, EOFError, zlib.error) as e:
        raise DataError(f"cannot read image file {path} ({getattr(e, 'strerror', None) or e})") from None
    if len(raw) < 16 or int.from_bytes(raw[:4], "big") != 0x803:
        raise DataError(f"{path} is not an IDX image file (it does not begin with 16 bytes of header and the magic "
                        f"number 0x00000803); give e.g. t10k-images-idx3-ubyte.gz")
    n, rows, cols = (int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(3))
    if len(raw) < 16 + n * rows * cols:
        raise DataError(f"{path} is truncated: its header promises {n} images of {rows}x{cols}, the file holds "
                        f"{len(raw) - 16} bytes of pixels")
    n = n if limit is None else min(n, limit)
    imgs = np.frombuffer(raw, dtype=np.uint8, count=n * rows * cols, offset=16).reshape(n, 1, rows, cols)
    t = torch.from_numpy(imgs.copy())
    if size is not None and size != rows:
        p = (size - rows) // 2
        t = torch.nn.functional.pad(t, (p, p, p, p))
    return t
