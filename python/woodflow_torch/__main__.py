"""python3 -m woodflow_torch RUN [--idx FILE] [--limit N]: the test bpd of a woodflow run in PyTorch.

Without --idx, the run's own data path is used when its data kind is fashion-mnist/idx; the noise is woodflow's
eval noise (torch.manual_seed(eval_seed), batches of 100), so the number is comparable with `woodflow eval`. Every
failure is one line on stderr, ``woodflow_torch: error: ...``, and a non-zero exit (WOODFLOW_TORCH_DEBUG=1 adds the
traceback of an unexpected one).
"""
import argparse
import math
import os
import sys
import time

from .errors import PREFIX, Error


class _Parser(argparse.ArgumentParser):
    """Usage errors on one line, in the same form as every other error."""

    def error(self, message):
        self.exit(2, f"{PREFIX}{message} (see python3 -m woodflow_torch --help)\n")


def main():
    ap = _Parser(prog="python3 -m woodflow_torch", description=__doc__.splitlines()[0])
    ap.add_argument("checkpoint", help="run folder (its best checkpoint) or checkpoint file")
    ap.add_argument("--idx", help="IDX image file (default: the run's Fashion-MNIST test images)")
    ap.add_argument("--limit", type=int, help="only the first N images (default: the run's test_limit, else all)")
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--weights", choices=["raw", "ema"], help="raw or ema (default: ema when the checkpoint holds it)")
    a = ap.parse_args()
    if a.batch < 1 or a.threads < 1 or a.limit is not None and a.limit < 1:
        ap.error("--batch, --threads and --limit must be at least 1")
    import torch
    from . import evaluate, load, read_idx
    torch.set_num_threads(a.threads)
    model = load(a.checkpoint, weights=a.weights, _command=True)
    data = model.run_config.get("data") or {}
    idx = a.idx
    if idx is None:
        if str(data.get("kind", "")).lower() not in ("fashion-mnist", "idx"):
            raise Error(f"the run's data kind is {data.get('kind')}, which this command does not read: pass the "
                        f"images with --idx FILE")
        idx = os.path.join(data.get("path") or "/usr/share/datasets/fashion-mnist", "t10k-images-idx3-ubyte.gz")
    limit = a.limit if a.limit is not None else data.get("test_limit")
    images = read_idx(idx, limit, model.config["height"])
    if len(images) == 0:
        raise Error(f"{idx} holds no images to evaluate")
    t = time.time()
    seed = (model.run_config.get("train") or {}).get("eval_seed") or 4321
    bpd, _ = evaluate(model, images, a.batch, seed)
    if not math.isfinite(bpd):
        raise Error(f"the bits per dimension of {model.checkpoint} on {idx} is not finite ({bpd}): the model's "
                    f"parameters overflow on these images; evaluate it with woodflow eval to compare")
    print(f"test bpd {bpd:.6f} over {len(images)} images ({model.checkpoint}, iteration {model.iteration}, "
          f"weights {model.weights}, PyTorch {torch.__version__}, {time.time() - t:.1f} s)")


def run():
    try:
        main()
    except Error as e:
        print(str(e), file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print(f"{PREFIX}interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as e:  # a bug: said to be one, the traceback only on request
        if os.environ.get("WOODFLOW_TORCH_DEBUG"):
            raise
        print(f"{PREFIX}an internal error stopped the evaluation ({e}); please report it (WOODFLOW_TORCH_DEBUG=1 "
              f"shows where)", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    run()
