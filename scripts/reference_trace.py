#!/usr/bin/python3
"""Records a short training trace of the paper's model in PyTorch, for ReferenceParityTest.

It builds a small Woodbury-Glow (or ME-Woodbury-Glow) with the yardstick's own classes
(../shared/yardstick/torch_glow.py), initialises its ActNorms on the first batch, then takes a few Adam steps
(lr 1e-3, betas 0.9/0.999) on dequantised random images. It writes one safetensors file holding:
  init.<name>   the state after ActNorm's initialisation, under woodflow's parameter names
  x<i>          the dequantised input of step i (float32, B x C x H x W)
  final.<name>  the parameters after the last step
and in its metadata the loss (mean bits per dimension) of every step and the model's shape.
woodflow loads init.*, feeds the same inputs to its own model and Adam, and must reproduce the losses and the final
parameters. Regenerate the test's traces with:
  /usr/bin/python3 scripts/reference_trace.py --me 0 --out src/test/resources/reference/woodbury.safetensors
  /usr/bin/python3 scripts/reference_trace.py --me 1 --out src/test/resources/reference/me-woodbury.safetensors
With --fashion-mnist a|b it traces the learning-parity protocol itself instead (the yardstick's config a or b on the
first 10,000 Fashion-MNIST training images, its batch order and its noise), and woodflow replays any trace with
  ./woodflow replay TRACE.safetensors
"""
import argparse, json, os, struct, sys
import torch


def write_safetensors(path, tensors, metadata):
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name, t in tensors.items():
        raw = t.detach().contiguous().float().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    head = json.dumps(header).encode()
    head += b" " * ((8 - len(head) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)))
        f.write(head)
        for raw in blobs:
            f.write(raw)


def woodflow_name(name):
    """The yardstick's state-dict key as woodflow names it (Module.stateDict)."""
    p = name.split(".")
    if p[0] in ("top_mean", "top_logs"):
        return "top." + p[0][4:]
    if p[0] == "priors":
        return f"level{p[1]}.split.prior.{p[-1]}"
    step = f"level{p[1]}.step{p[2]}."
    actnorm = {"b": "bias", "s": "logs", "ready": "initialised"}
    if p[3] == "0":
        return step + "actnorm." + actnorm[p[4]]
    if p[3] == "1":
        factor = {"ch": "channel", "sp": "spatial", "wt": "width", "ht": "height"}[p[4]]
        return f"{step}permutation.{factor}.{p[5]}"
    layer = p[5]  # the coupling's nn.Sequential: 0 ConvNorm, 2 ConvNorm, 4 ZeroConv
    if layer == "4":
        return step + "coupling.net.out." + p[-1]
    n = {"0": "1", "2": "2"}[layer]
    if p[6] == "conv":
        return f"{step}coupling.net.conv{n}"
    return f"{step}coupling.net.norm{n}." + actnorm[p[-1]]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--yardstick", default=os.path.join(os.path.dirname(__file__), "../../shared/yardstick"))
    ap.add_argument("--me", type=int, default=0)
    ap.add_argument("--shape", default="1,16,16")
    ap.add_argument("--K", type=int, default=2)
    ap.add_argument("--L", type=int, default=2)
    ap.add_argument("--hidden", type=int, default=16)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--fashion-mnist", choices=["a", "b"], help="trace the parity protocol of yardstick config a or b")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    sys.path.insert(0, os.path.abspath(a.yardstick))
    import torch_glow as tg

    torch.set_num_threads(1)
    if a.fashion_mnist:
        cfg = tg.CONFIGS[a.fashion_mnist]
        a.me, a.K, a.L, a.hidden, a.batch = int(cfg["me"]), cfg["K"], cfg["L"], cfg["hidden"], cfg["batch"]
        a.shape = ",".join(str(v) for v in cfg["shape"])
    torch.manual_seed(a.seed)
    shape = tuple(int(v) for v in a.shape.split(","))
    model = tg.Glow(shape, a.K, a.L, a.hidden, bool(a.me))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999))
    if a.fashion_mnist:
        # the yardstick's learn protocol: one fixed permutation, ActNorm initialised on its first batch
        train = tg.fashion_mnist("train", 10000)
        perm = torch.randperm(len(train), generator=torch.Generator().manual_seed(1234))
        first = train[perm[:a.batch]]
        batch = lambda i: train[perm[(i * a.batch) % (len(train) - a.batch):][:a.batch]]
    else:
        # smooth random images with a little pixel noise, so the model has something to learn in a few steps
        n = a.batch * (a.steps + 1)
        coarse = torch.rand(n, shape[0], shape[1] // 4, shape[2] // 4) * 255
        smooth = torch.nn.functional.interpolate(coarse, size=shape[1:], mode="bilinear", align_corners=False)
        images = (smooth + torch.randint(-8, 9, smooth.shape)).clamp(0, 255).floor()
        first = images[:a.batch]
        batch = lambda i: images[(i + 1) * a.batch:(i + 2) * a.batch]
    inputs = []
    log_prob = model.log_prob
    model.log_prob = lambda x: (inputs.append(x.detach().clone()), log_prob(x))[1]
    with torch.no_grad():
        tg.bpd(model, first)  # ActNorm's data-dependent initialisation
    tensors = {"init." + woodflow_name(k): v.clone() for k, v in model.state_dict().items()}
    inputs.clear()
    losses = []
    for i in range(a.steps):
        if a.fashion_mnist and i % 100 == 0:
            torch.manual_seed(a.seed * 7919 + i)  # the yardstick reseeds its noise after each evaluation
        loss = tg.bpd(model, batch(i)).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    for i, x in enumerate(inputs):
        tensors[f"x{i}"] = x
    for k, v in model.state_dict().items():
        if "ready" not in k:
            tensors["final." + woodflow_name(k)] = v.clone()
    meta = {"losses": json.dumps(losses), "shape": a.shape, "K": str(a.K), "L": str(a.L), "hidden": str(a.hidden),
            "permutation": "me-woodbury" if a.me else "woodbury", "d": str(tg.RANK),
            "torch": torch.__version__, "source": "scripts/reference_trace.py on ../shared/yardstick/torch_glow.py"}
    write_safetensors(a.out, tensors, meta)
    print(f"{a.out}: {len(losses)} steps, loss {losses[0]:.5f} -> {losses[-1]:.5f}")


if __name__ == "__main__":
    main()
