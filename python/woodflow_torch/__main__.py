"""python3 -m woodflow_torch RUN [--idx FILE] [--limit N]: the test bpd of a woodflow run in PyTorch.

Without --idx, the run's own data path is used when its data kind is fashion-mnist/idx; the noise is woodflow's
eval noise (torch.manual_seed(eval_seed), batches of 100), so the number is comparable with `woodflow eval`.
"""
import argparse
import os
import time

import torch

from . import evaluate, load, read_idx


def main():
    ap = argparse.ArgumentParser(prog="python3 -m woodflow_torch", description=__doc__.splitlines()[0])
    ap.add_argument("checkpoint", help="run folder (its best checkpoint) or checkpoint file")
    ap.add_argument("--idx", help="IDX image file (default: the run's Fashion-MNIST test images)")
    ap.add_argument("--limit", type=int, help="only the first N images (default: the run's test_limit, else all)")
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--weights", choices=["raw", "ema"], help="raw or ema (default: ema when the checkpoint holds it)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    model = load(a.checkpoint, weights=a.weights)
    data = model.run_config.get("data", {})
    idx = a.idx
    if idx is None:
        if data.get("kind", "").lower() not in ("fashion-mnist", "idx"):
            raise SystemExit(f"woodflow_torch: error: the run's data kind is {data.get('kind')}; pass --idx FILE")
        idx = os.path.join(data.get("path") or "/usr/share/datasets/fashion-mnist", "t10k-images-idx3-ubyte.gz")
    limit = a.limit if a.limit is not None else data.get("test_limit")
    images = read_idx(idx, limit, model.config["height"])
    t = time.time()
    seed = (model.run_config.get("train") or {}).get("eval_seed") or 4321
    bpd, _ = evaluate(model, images, a.batch, seed)
    print(f"test bpd {bpd:.6f} over {len(images)} images ({model.checkpoint}, iteration {model.iteration}, "
          f"weights {model.weights}, PyTorch {torch.__version__}, {time.time() - t:.1f} s)")


if __name__ == "__main__":
    main()
