"""For TorchInteropTest: the paper's model (the yardstick's classes) on a tiny shape, written and read as state_dicts.

  write --me 0|1 --rank D --pt OUT.pt --inputs OUT.safetensors [--extra]
      builds Glow((1, 8, 8), K=2, L=2, hidden=8), initialises its ActNorms on random images, moves every parameter by
      N(0, 0.05^2) (so the zero-initialised convolutions matter), torch.save()s its state_dict (an OrderedDict, as the
      paper's code saves it; --extra adds a parameter woodflow cannot map; --official renames it to the official
      code's layout and saves it as that code's utils.save_model does), writes a dequantised batch and prints the
      model's bits per dimension on it as JSON {"bpd": [...]}.
  read --me 0|1 --rank D --pt FILE.pt --inputs FILE.safetensors
      load_state_dict(torch.load(FILE), strict=True) into the same class, prints {"bpd": [...]} on the batch.
"""
import argparse
import collections
import copy
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
ap.add_argument("--drop-prefix", default=None, help="read: leave out the keys with this prefix (a dequantiser's)")
ap.add_argument("--official", action="store_true",
                help="save in the official code's layout and checkpoint dict (see official_layout)")
a = ap.parse_args()
sys.path.insert(0, os.path.abspath(a.yardstick))
import torch_glow as tg  # noqa: E402

torch.set_num_threads(1)
tg.RANK = a.rank
torch.manual_seed(11)
model = tg.Glow((1, 8, 8), 2, 2, 8, bool(a.me))


def official_layout(state, K):
    """The state_dict under the names and shapes of github yolu1055/WoodburyTransformations' WoodburyGlow (models.py,
    modules.py, WoodburyTrans.py): flow.layers.i (squeeze, K steps, split per level), Conv2dZeros with a second
    bias "newbias" (C, 1, 1) and logs (C, 1, 1), a constant "eye" in every Woodbury factor, uint8 "initialized"."""
    out = {}
    actnorm = {"b": "bias", "s": "logs", "ready": "initialized"}
    factor = {"ch": "CTrans", "sp": "STrans", "wt": "WTrans", "ht": "HTrans"}
    g = torch.Generator().manual_seed(5)
    for key, t in state.items():
        p = key.split(".")
        if key in ("top_mean", "top_logs"):
            out["latent_" + key[4:]] = t
            continue
        if p[0] == "priors":
            base = f"flow.layers.{int(p[1]) * (K + 2) + K + 1}.conv."
            if p[-1] == "logs":
                out[base + "logs"] = t.reshape(-1, 1, 1)
            elif p[-1] == "bias":  # split the bias in two, as the official Conv2dZeros has bias + newbias
                part = torch.randn(t.shape, generator=g) * 0.1
                out[base + "bias"], out[base + "newbias"] = part, (t - part).reshape(-1, 1, 1)
            else:
                out[base + "weight"] = t
            continue
        base = f"flow.layers.{int(p[1]) * (K + 2) + 1 + int(p[2])}."
        if p[3] == "0":
            out[base + "actnorm." + actnorm[p[4]]] = t.to(torch.uint8) if p[4] == "ready" else t
        elif p[3] == "1":
            out[base + f"conv.{factor[p[4]]}.{p[5]}"] = t
            out[base + f"conv.{factor[p[4]]}.eye"] = torch.eye(t.shape[1] if p[5] == "U" else t.shape[0])
        elif p[5] == "4":
            if p[-1] == "logs":
                out[base + "affine.f.4.logs"] = t.reshape(-1, 1, 1)
            elif p[-1] == "bias":
                part = torch.randn(t.shape, generator=g) * 0.1
                out[base + "affine.f.4.bias"], out[base + "affine.f.4.newbias"] = part, (t - part).reshape(-1, 1, 1)
            else:
                out[base + "affine.f.4.weight"] = t
        elif p[6] == "conv":
            out[base + f"affine.f.{p[5]}.weight"] = t
        else:
            name = actnorm[p[-1]]
            out[base + f"affine.f.{p[5]}.actnorm.{name}"] = t.to(torch.uint8) if name == "initialized" else t
    return collections.OrderedDict(out)


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
        if a.official:
            shadow = copy.deepcopy(model)  # an optimiser state with tensors in it, as a real checkpoint has
            opt = torch.optim.Adam(shadow.parameters(), lr=1e-3)
            with torch.enable_grad():
                shadow.log_prob(torch.rand(2, 1, 8, 8) - 0.5).mean().backward()
            opt.step()
            torch.save({"iteration": 7, "modelname": "WoodburyGlow", "model": official_layout(state, 2),
                        "optim": opt.state_dict(), "scheduler": None}, a.pt)
        else:
            torch.save(state, a.pt)
        x = torch.randint(0, 256, (4, 1, 8, 8)).float() / 256 - 0.5
        x = x + torch.rand_like(x) / 256
        safetensors.write(a.inputs, {"x": x.numpy()})
    else:
        state = torch.load(a.pt)
        if a.drop_prefix:  # what the export prints for a model with a variational dequantiser
            state = {k: v for k, v in state.items() if not k.startswith(a.drop_prefix)}
        model.load_state_dict(state, strict=True)
        x = torch.from_numpy(safetensors.read(a.inputs)[0]["x"])
    print(json.dumps({"bpd": bpd(x)}))
