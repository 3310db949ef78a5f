"""For TorchInteropTest: the paper's model (the yardstick's classes) on a tiny shape, written and read as state_dicts.

  write --me 0|1 --rank D --pt OUT.pt --inputs OUT.safetensors [--extra]
      builds Glow((1, 8, 8), K=2, L=2, hidden=8), initialises its ActNorms on random images, moves every parameter by
      N(0, 0.05^2) (so the zero-initialised convolutions matter), torch.save()s its state_dict (an OrderedDict, as the
      paper's code saves it; --extra adds a parameter woodflow cannot map), writes a dequantised batch and prints the
      model's bits per dimension on it as JSON {"bpd": [...]}.
  read --me 0|1 --rank D --pt FILE.pt --inputs FILE.safetensors
      load_state_dict(torch.load(FILE), strict=True) into the same class, prints {"bpd": [...]} on the batch.
"""
import argparse
import math
import os
import sys

import json
import torch

from woodflow_torch import safetensors

ap = argparse.ArgumentParser()
ap.add_argument("what", choices=["write", "read"])
ap.add_argument("--yardstick", required=True)
ap.add_argument("--me", type=int, default=0)
ap.add_argument("--rank", type=int, default=4)
ap.add_argument("--pt", required=True)
ap.add_argument("--inputs", required=True)
ap.add_argument("--extra", action="store_true")
a = ap.parse_args()
sys.path.insert(0, os.path.abspath(a.yardstick))
import torch_glow as tg  # noqa: E402

torch.set_num_threads(1)
tg.RANK = a.rank
torch.manual_seed(11)
model = tg.Glow((1, 8, 8), 2, 2, 8, bool(a.me))


def bpd(x):
    d = x[0].numel()
    return (-(model.log_prob(x) - d * math.log(256)) / (d * math.log(2))).tolist()


with torch.no_grad():
    if a.what == "write":
        tg.bpd(model, torch.randint(0, 256, (16, 1, 8, 8)).float())  # ActNorm's initialisation
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
        state = model.state_dict()
        if a.extra:
            state["levels.0.0.3.weight"] = torch.zeros(3)
        torch.save(state, a.pt)
        x = torch.randint(0, 256, (4, 1, 8, 8)).float() / 256 - 0.5
        x = x + torch.rand_like(x) / 256
        safetensors.write(a.inputs, {"x": x.numpy()})
    else:
        model.load_state_dict(torch.load(a.pt), strict=True)
        x = torch.from_numpy(safetensors.read(a.inputs)[0]["x"])
    print(json.dumps({"bpd": bpd(x)}))
