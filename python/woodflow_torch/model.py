"""woodflow's multi-scale flow in PyTorch, module for module, with woodflow's parameter names.

Every layer maps data to latent in ``forward`` (returning the output and a per-sample log-det) and back in
``inverse`` (returning its own log-det, so the two cancel), as woodflow's ``Transform``. The formulas, and the choice
of float64 for the small determinants and inverses, follow woodflow's Java classes of the same names
(layers/WoodburyTransform, MeWoodburyTransform, LowRank, ActNorm, Conv1x1, Reverse, Squeeze, Split, TopPrior,
coupling/Coupling, GlowConditioner, ZeroConv, AffineTransform, AdditiveTransform, model/MultiScaleFlow), so that a
woodflow checkpoint gives the same bits per dimension here as in woodflow.

    x (C, H, W)
    level 0:    squeeze -> (4C, H/2, W/2) -> K steps -> split --------------> eps_0 (2C, H/2, W/2)
    ...
    level L-1:  squeeze -> K steps -> top prior ----------------------------> eps_{L-1}
    step = ActNorm -> permutation (Woodbury, ME-Woodbury, 1x1, ...) -> coupling

Every latent eps_l is standard normal under the model: log p(x) = sum_l log N(eps_l; 0, I) + total log-det.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

SUPPORTED_PERMUTATIONS = ("woodbury", "me-woodbury", "conv1x1", "conv1x1-lu", "reverse", "periodic", "emerging")
SUPPORTED_COUPLINGS = ("affine", "additive", "spline", "macow")
_LOG_2PI = math.log(2 * math.pi)


def _sum_per_sample(x):
    return x.reshape(x.shape[0], -1).sum(1)


class LowRankFactor(nn.Module):
    """One factor I_n + U V (U: n x d, V: d x n). log|det(I_n + U V)| = log|det(I_d + V U)| (Sylvester) and
    (I_n + U V)^-1 = I_n - U (I_d + V U)^-1 V (Woodbury); the d x d matrix, its determinant and inverse in float64."""

    def __init__(self, n, d):
        super().__init__()
        self.U = nn.Parameter(torch.zeros(n, d))
        self.V = nn.Parameter(torch.zeros(d, n))

    def capacitance(self):
        m = self.V.double() @ self.U.double()
        return m + torch.eye(m.shape[0], dtype=torch.float64, device=m.device)

    def log_abs_det(self):
        return torch.linalg.slogdet(self.capacitance())[1]

    def inverse_capacitance(self):
        cap = self.capacitance()
        ld = torch.linalg.slogdet(cap)[1].item()
        if not math.isfinite(ld) or ld < -18:
            raise ValueError(f"a Woodbury factor's I + V U ({cap.shape[0]}x{cap.shape[0]}) is near-singular "
                             f"(log|det| = {ld}): the layer cannot be inverted reliably")
        return torch.linalg.inv(cap).to(self.U.dtype)

    def left(self, x):  # (I + U V) X, X: (B, n, m)
        return x + self.U @ (self.V @ x)

    def right(self, x):  # X (I + U V), X: (B, m, n)
        return x + (x @ self.U) @ self.V

    def left_inverse(self, y):
        return y - self.U @ (self.inverse_capacitance() @ (self.V @ y))

    def right_inverse(self, y):
        return y - ((y @ self.U) @ self.inverse_capacitance()) @ self.V


class WoodburyTransform(nn.Module):
    """Lu & Huang (2020). X: (c, n = h w) per sample.
    forward: X' = (I_c + U_c V_c) X, Y = X' (I_n + U_s V_s); inverse: spatial first, then channel (Woodbury);
    log-det: n log|det(I + V_c U_c)| + c log|det(I + V_s U_s)|."""

    def __init__(self, c, h, w, d_c, d_s):
        super().__init__()
        self.c, self.h, self.w = c, h, w
        self.channel = LowRankFactor(c, d_c)
        self.spatial = LowRankFactor(h * w, d_s)

    def _log_det(self, x, sign):
        ld = self.channel.log_abs_det() * float(self.h * self.w) + self.spatial.log_abs_det() * float(self.c)
        return (ld * sign).to(x.dtype).expand(x.shape[0])

    def forward(self, x):
        b = x.shape[0]
        y = self.spatial.right(self.channel.left(x.reshape(b, self.c, self.h * self.w)))
        return y.reshape(b, self.c, self.h, self.w), self._log_det(x, 1.0)

    def inverse(self, y):
        b = y.shape[0]
        x = self.channel.left_inverse(self.spatial.right_inverse(y.reshape(b, self.c, self.h * self.w)))
        return x.reshape(b, self.c, self.h, self.w), self._log_det(y, -1.0)


class MeWoodburyTransform(nn.Module):
    """The memory-efficient Woodbury transformation (Lu & Huang 2020, supplement B): channel transform on (c, h w),
    width transform on (c h, w), height transform on (c w, h); inverse in reverse order.
    log-det: h w log|det(I + V_c U_c)| + c h log|det(I + V_w U_w)| + c w log|det(I + V_h U_h)|."""

    def __init__(self, c, h, w, d_c, d_h, d_w):
        super().__init__()
        self.c, self.h, self.w = c, h, w
        self.channel = LowRankFactor(c, d_c)
        self.width = LowRankFactor(w, d_w)
        self.height = LowRankFactor(h, d_h)

    def _log_det(self, x, sign):
        c, h, w = self.c, self.h, self.w
        ld = (self.channel.log_abs_det() * float(h * w) + self.width.log_abs_det() * float(c * h)
              + self.height.log_abs_det() * float(c * w))
        return (ld * sign).to(x.dtype).expand(x.shape[0])

    def forward(self, x):
        b, c, h, w = x.shape[0], self.c, self.h, self.w
        xc = self.channel.left(x.reshape(b, c, h * w))
        xw = self.width.right(xc.reshape(b, c * h, w))
        xt = xw.reshape(b, c, h, w).transpose(2, 3).reshape(b, c * w, h)
        y = self.height.right(xt).reshape(b, c, w, h).transpose(2, 3).contiguous()
        return y, self._log_det(x, 1.0)

    def inverse(self, y):
        b, c, h, w = y.shape[0], self.c, self.h, self.w
        yt = y.transpose(2, 3).reshape(b, c * w, h)
        xw = self.height.right_inverse(yt).reshape(b, c, w, h).transpose(2, 3).reshape(b, c * h, w)
        xc = self.width.right_inverse(xw).reshape(b, c, h * w)
        return self.channel.left_inverse(xc).reshape(b, c, h, w), self._log_det(y, -1.0)


class Conv1x1(nn.Module):
    """Glow's invertible 1x1 convolution: y = W x at every pixel, log-det h w log|det W| (float64). LU form:
    W = P L (U + diag(sign exp(logs))), log-det h w sum(logs)."""

    def __init__(self, c, lu):
        super().__init__()
        self.c, self.lu = c, lu
        if lu:
            self.L = nn.Parameter(torch.zeros(c, c))
            self.U = nn.Parameter(torch.zeros(c, c))
            self.logs = nn.Parameter(torch.zeros(c))
            self.register_buffer("P", torch.eye(c))
            self.register_buffer("sign", torch.ones(c))
        else:
            self.weight = nn.Parameter(torch.eye(c))

    def matrix(self):
        if not self.lu:
            return self.weight
        eye = torch.eye(self.c, dtype=self.L.dtype, device=self.L.device)
        return self.P @ ((self.L.tril(-1) + eye) @ (self.U.triu(1) + torch.diag_embed(self.sign * self.logs.exp())))

    def _log_det(self, x, sign):
        hw = float(x.shape[2] * x.shape[3])
        ld = self.logs.sum() if self.lu else torch.linalg.slogdet(self.weight.double())[1]
        return (ld * (sign * hw)).to(x.dtype).expand(x.shape[0])

    def forward(self, x):
        b, c, h, w = x.shape
        return (self.matrix() @ x.reshape(b, c, h * w)).reshape(b, c, h, w), self._log_det(x, 1.0)

    def inverse(self, y):
        b, c, h, w = y.shape
        inv = torch.linalg.inv(self.matrix().double()).to(y.dtype)
        return (inv @ y.reshape(b, c, h * w)).reshape(b, c, h, w), self._log_det(y, -1.0)


class Reverse(nn.Module):
    """Reverses the channel order; log-det 0."""

    def forward(self, x):
        return x.flip(1), x.new_zeros(x.shape[0])

    def inverse(self, y):
        return y.flip(1), y.new_zeros(y.shape[0])


class PeriodicConv(nn.Module):
    """A d x d, c -> c convolution with circular padding (Finz et al. 2019; Hoogeboom et al. 2019), invertible
    frequency by frequency: y^(u, v) = M^(u, v) x^(u, v) with M^ the DFT of the kernel placed on an h x w image;
    log-det sum_{u,v} log|det M^(u, v)|. The Fourier domain is float64 / complex128, as woodflow's PeriodicKernels."""

    def __init__(self, c, d):
        super().__init__()
        self.kernel = nn.Parameter(torch.zeros(c, c, d, d))

    def _wrap(self, n, device):
        k = self.kernel.shape[2] // 2
        return torch.tensor([(j - k) % n for j in range(n + 2 * k)], device=device)

    def frequency_matrices(self, h, w):
        co, ci, d, _ = self.kernel.shape
        k = d // 2
        place = torch.zeros(d * d, h * w, dtype=torch.float64, device=self.kernel.device)
        for a in range(d):
            for b in range(d):
                place[a * d + b, ((k - a) % h) * w + (k - b) % w] += 1
        g = (self.kernel.double().reshape(co * ci, d * d) @ place).reshape(co, ci, h, w)
        return torch.fft.rfft2(g, dim=(-2, -1)).permute(2, 3, 0, 1)  # (h, w/2 + 1, c, c)

    def _log_det(self, m, x, sign):
        w = x.shape[3]
        per = torch.linalg.slogdet(m)[1]
        mult = torch.tensor([1.0 if (v == 0 or 2 * v == w) else 2.0 for v in range(w // 2 + 1)], dtype=torch.float64,
                            device=per.device)
        return ((per * mult).sum() * sign).to(x.dtype).expand(x.shape[0])

    def forward(self, x):
        h, w = x.shape[2], x.shape[3]
        padded = x.index_select(2, self._wrap(h, x.device)).index_select(3, self._wrap(w, x.device))
        y = F.conv2d(padded, self.kernel)
        return y, self._log_det(self.frequency_matrices(h, w), x, 1.0)

    def inverse(self, y):
        h, w = y.shape[2], y.shape[3]
        m = self.frequency_matrices(h, w)
        yf = torch.fft.rfft2(y.double(), dim=(-2, -1)).permute(2, 3, 1, 0)
        xf = torch.linalg.solve(m, yf).permute(3, 2, 0, 1)
        x = torch.fft.irfft2(xf, s=(h, w), dim=(-2, -1)).to(y.dtype)
        return x, self._log_det(m, y, -1.0)


class EmergingConv(nn.Module):
    """The emerging convolution (Hoogeboom, van den Berg & Welling 2019): y = A2 * (A1 * (W x)), W an LU 1x1
    convolution, A1 raster-causal d x d (free taps before the centre, lower-triangular centre with diagonal
    exp(logdiag1)), A2 the same form turned by 180 degrees with channels reversed. log-det = log-det(W)
    + h w (sum(logdiag1) + sum(logdiag2)). Inverse by substitution, pixel by pixel (serial; float64)."""

    def __init__(self, c, d):
        super().__init__()
        self.c, self.d = c, d
        self.conv1x1 = Conv1x1(c, True)
        self.weight1 = nn.Parameter(torch.zeros(c, c, d, d))
        self.logdiag1 = nn.Parameter(torch.zeros(c))
        self.weight2 = nn.Parameter(torch.zeros(c, c, d, d))
        self.logdiag2 = nn.Parameter(torch.zeros(c))
        k, mid = d // 2, (d // 2) * d + d // 2
        free = torch.zeros(c, c, d, d)
        for a in range(d):
            for b in range(d):
                if a * d + b < mid:
                    free[:, :, a, b] = 1
        free[:, :, k, k] = torch.ones(c, c).tril(-1)
        centre = torch.zeros(d, d)
        centre[k, k] = 1
        self.register_buffer("free_mask", free, persistent=False)
        self.register_buffer("centre", centre, persistent=False)

    def _lower(self, weight, log_diag):
        diag = torch.diag_embed(log_diag.exp()).unsqueeze(-1).unsqueeze(-1)
        return weight * self.free_mask + diag * self.centre

    def _masked_log_det(self, x, sign):
        hw = float(x.shape[2] * x.shape[3])
        return ((self.logdiag1.sum() + self.logdiag2.sum()) * (sign * hw)).to(x.dtype).expand(x.shape[0])

    def forward(self, x):
        u, ld = self.conv1x1(x)
        v = _conv(u, self._lower(self.weight1, self.logdiag1), None)
        y = _conv(v, self._lower(self.weight2, self.logdiag2).flip(0, 1, 2, 3), None)
        return y, ld + self._masked_log_det(x, 1.0)

    @staticmethod
    def _solve_lower(kernel, y):
        """x with y = kernel * x (zero padding), kernel raster-causal with a lower-triangular centre."""
        b, c, h, w = y.shape
        d = kernel.shape[2]
        k = d // 2
        xp = y.new_zeros(b, c, h + 2 * k, w + 2 * k)
        centre = kernel[:, :, k, k]
        for r in range(h):
            for q in range(w):
                # the current pixel of xp is still 0, so the patch sum holds only the earlier taps
                past = torch.einsum("oiuv,biuv->bo", kernel, xp[:, :, r:r + d, q:q + d])
                rest = (y[:, :, r, q] - past).unsqueeze(-1)
                xp[:, :, r + k, q + k] = torch.linalg.solve_triangular(centre, rest, upper=False).squeeze(-1)
        return xp[:, :, k:k + h, k:k + w]

    def inverse(self, y):
        with torch.no_grad():
            a1 = self._lower(self.weight1, self.logdiag1).double()
            a2 = self._lower(self.weight2, self.logdiag2).double()
            # A2 is A1's form turned by 180 degrees with channels reversed: flipping channels, rows and columns of
            # the image turns solving with A2 into solving with the lower kernel
            v = self._solve_lower(a2, y.double().flip(1, 2, 3)).flip(1, 2, 3)
            u = self._solve_lower(a1, v).to(y.dtype)
        x, ld = self.conv1x1.inverse(u)
        return x, ld + self._masked_log_det(y, -1.0)


class MaskedConvNet(nn.Module):
    """MaCow's row-causal network: shift down one row, conv kh x kw looking up (c -> H), ActNorm, ReLU, zero-init
    conv kh x kw looking up (H -> c_out) times exp(logs f); kh = kw / 2 + 1. Row i sees only input rows < i."""

    def __init__(self, cin, hidden, cout, kw, factor):
        super().__init__()
        self.kw, self.kh, self.factor = kw, kw // 2 + 1, factor
        self.conv1 = nn.Parameter(torch.zeros(hidden, cin, self.kh, kw))
        self.norm1 = ActNorm(hidden)
        self.out_weight = nn.Parameter(torch.zeros(cout, hidden, self.kh, kw))
        self.out_bias = nn.Parameter(torch.zeros(cout))
        self.out_logs = nn.Parameter(torch.zeros(1, cout, 1, 1))

    def receptive_rows(self):
        return 2 * self.kh - 1

    def _look_up(self, x, weight, bias):
        side = self.kw // 2
        return F.conv2d(F.pad(x, (side, side, self.kh - 1, 0)), weight, bias)

    def forward(self, x):
        shifted = F.pad(x, (0, 0, 1, 0))[:, :, :x.shape[2]]
        h = self.norm1(self._look_up(shifted, self.conv1, None))[0].relu()
        return self._look_up(h, self.out_weight, self.out_bias) * (self.out_logs * self.factor).exp()


class MaskedAffineCoupling(nn.Module):
    """One direction of a MaCow unit: in the canonical frame (from above), theta = net(x), shift = theta[:, 0::2],
    scale = sigmoid(theta[:, 1::2] + 2), y = (x + shift) scale; the inverse runs row by row."""

    def __init__(self, direction, c, hidden, kw, factor):
        super().__init__()
        self.direction = direction
        self.net = MaskedConvNet(c, hidden, 2 * c, kw, factor)

    def _to(self, x):
        return {"above": x, "below": x.flip(2), "left": x.transpose(2, 3), "right": x.transpose(2, 3).flip(2)}[
            self.direction]

    def _from(self, x):
        return {"above": x, "below": x.flip(2), "left": x.transpose(2, 3), "right": x.flip(2).transpose(2, 3)}[
            self.direction]

    @staticmethod
    def _shift_log_scale(theta):
        b, c2, h, w = theta.shape
        r = theta.reshape(b, c2 // 2, 2, h, w)
        return r[:, :, 0], F.logsigmoid(r[:, :, 1] + 2.0)

    def forward(self, x):
        xc = self._to(x)
        shift, log_scale = self._shift_log_scale(self.net(xc))
        return self._from((xc + shift) * log_scale.exp()), _sum_per_sample(log_scale)

    def inverse(self, y):
        yc = self._to(y)
        seen = self.net.receptive_rows()
        done, log_det = [], 0
        unknown = torch.zeros_like(yc[:, :, :1])
        for i in range(yc.shape[2]):
            start = max(0, i - seen)
            theta = self.net(torch.cat(done[start:i] + [unknown], 2))[:, :, i - start:i - start + 1]
            shift, log_scale = self._shift_log_scale(theta)
            done.append(yc[:, :, i:i + 1] * (-log_scale).exp() - shift)
            log_det = log_det - _sum_per_sample(log_scale)
        return self._from(torch.cat(done, 2)), log_det


class MaCowUnit(nn.Module):
    """Ma, Kong, Zhang & Hovy (2019): four masked affine couplings, from above, below, left and right."""

    DIRECTIONS = ("above", "below", "left", "right")

    def __init__(self, c, hidden, kw, factor):
        super().__init__()
        for d in self.DIRECTIONS:
            self.add_module(d, MaskedAffineCoupling(d, c, hidden, kw, factor))

    def forward(self, x):
        ld = 0
        for d in self.DIRECTIONS:
            x, l = getattr(self, d)(x)
            ld = ld + l
        return x, ld

    def inverse(self, y):
        ld = 0
        for d in reversed(self.DIRECTIONS):
            y, l = getattr(self, d).inverse(y)
            ld = ld + l
        return y, ld


_SPLINE_MIN = 1e-3
_DERIVATIVE_SHIFT = math.log(math.expm1(1 - _SPLINE_MIN))


def _knots(unnormalised, bound):
    bins = unnormalised.shape[-1]
    fractions = unnormalised.softmax(-1) * (1 - _SPLINE_MIN * bins) + _SPLINE_MIN
    inner = fractions.cumsum(-1)[..., :bins - 1] * (2 * bound) - bound
    edge = inner.new_full(unnormalised.shape[:-1] + (1,), bound)
    knots = torch.cat([-edge, inner, edge], -1)
    return knots, knots[..., 1:] - knots[..., :-1]


def _derivatives(unnormalised):
    interior = F.softplus(unnormalised + _DERIVATIVE_SHIFT) + _SPLINE_MIN
    one = interior.new_ones(unnormalised.shape[:-1] + (1,))
    return torch.cat([one, interior, one], -1)


def _spline(v, widths, heights, derivatives, bound, inverse):
    """The rational-quadratic spline (Durkan et al. 2019) as woodflow's SplineKernels: value and log|derivative|."""
    kx, wx = _knots(widths, bound)
    ky, hy = _knots(heights, bound)
    delta = _derivatives(derivatives)
    inside = (v >= -bound) & (v <= bound)
    vc = v.clamp(-bound, bound)
    knots = ky if inverse else kx
    bins = knots.shape[-1] - 1
    b = (vc.unsqueeze(-1) >= knots[..., 1:bins]).sum(-1, keepdim=True)
    take = lambda t, i: torch.gather(t, -1, i).squeeze(-1)  # noqa: E731
    xk, wk, yk, hk, d0, d1 = take(kx, b), take(wx, b), take(ky, b), take(hy, b), take(delta, b), take(delta, b + 1)
    slope = hk / wk
    total = d1 + d0 - 2 * slope
    if not inverse:
        xi = ((vc - xk) / wk).clamp(0, 1)
        t = xi * (1 - xi)
        den = slope + total * t
        out = yk + hk * (slope * xi.pow(2) + d0 * t) / den
    else:
        dy = vc - yk
        a = hk * (slope - d0) + dy * total
        bb = hk * d0 - dy * total
        c = -(slope * dy)
        disc = (bb.pow(2) - 4 * a * c).clamp(min=0)
        xi = (2 * c / (-bb - disc.sqrt())).clamp(0, 1)
        out = xi * wk + xk
        t = xi * (1 - xi)
        den = slope + total * t
    inner = d1 * xi.pow(2) + 2 * slope * t + d0 * (1 - xi).pow(2)
    log_d = 2 * slope.log() + inner.log() - 2 * den.log()
    if inverse:
        log_d = -log_d
    return torch.where(inside, out, v), torch.where(inside, log_d, torch.zeros_like(log_d))


class ActNorm(nn.Module):
    """Kingma & Dhariwal (2018): y = (x + b) exp(logs) per channel, log-det h w sum(logs). The checkpoint's
    values are used as they are (no data-dependent initialisation here: a loaded model is always initialised)."""

    def __init__(self, c):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(1, c, 1, 1))
        self.logs = nn.Parameter(torch.zeros(1, c, 1, 1))
        self.register_buffer("initialised", torch.ones(1))

    def _log_det(self, x, sign):
        return (self.logs.sum() * (sign * x.shape[2] * x.shape[3])).expand(x.shape[0])

    def forward(self, x):
        return (x + self.bias) * self.logs.exp(), self._log_det(x, 1.0)

    def inverse(self, y):
        return y * (-self.logs).exp() - self.bias, self._log_det(y, -1.0)

    def convolve(self, x, weight):
        """(conv(x, W) + b) exp(logs), folded into the convolution as woodflow does."""
        scale = self.logs.exp()
        c = weight.shape[0]
        return _conv(x, weight * scale.reshape(c, 1, 1, 1), (self.bias * scale).reshape(c))


def _conv(x, weight, bias):
    k = weight.shape[2]
    return F.conv2d(x, weight, bias, stride=1, padding=k // 2)


class ZeroConv(nn.Module):
    """Glow's Conv2dZeros: conv_kxk(x) * exp(logs * f), f = logscale_factor (1 in the paper's code)."""

    def __init__(self, cin, cout, k, factor):
        super().__init__()
        self.factor = factor
        self.weight = nn.Parameter(torch.zeros(cout, cin, k, k))
        self.bias = nn.Parameter(torch.zeros(cout))
        self.logs = nn.Parameter(torch.zeros(1, cout, 1, 1))

    def forward(self, x):
        return _conv(x, self.weight, self.bias) * (self.logs * self.factor).exp()


class GlowConditioner(nn.Module):
    """conv3x3(c_in -> H) + ActNorm, ReLU, conv1x1(H -> H) + ActNorm, ReLU, ZeroConv3x3(H -> c_out)."""

    def __init__(self, cin, hidden, cout, factor):
        super().__init__()
        self.conv1 = nn.Parameter(torch.zeros(hidden, cin, 3, 3))
        self.norm1 = ActNorm(hidden)
        self.conv2 = nn.Parameter(torch.zeros(hidden, hidden, 1, 1))
        self.norm2 = ActNorm(hidden)
        self.out = ZeroConv(hidden, cout, 3, factor)

    def forward(self, x1):
        h = self.norm1.convolve(x1, self.conv1).relu()
        h = self.norm2.convolve(h, self.conv2).relu()
        return self.out(h)


class Coupling(nn.Module):
    """[x1, x2] -> [x1, g(x2; NN(x1))]. affine (the paper's code): shift = theta[:, 0::2],
    scale = sigmoid(theta[:, 1::2] + 2), y2 = (x2 + shift) scale, log-det sum(log scale); additive: y2 = x2 + theta;
    spline: a K-bin rational-quadratic spline on [-B, B] per element, identity tails (3K - 1 parameters each)."""

    def __init__(self, c, hidden, kind, factor, bins=4, bound=3.0):
        super().__init__()
        self.kind, self.bins, self.bound = kind, bins, bound
        half = c // 2
        per = {"affine": 2, "additive": 1, "spline": 3 * bins - 1}[kind]
        self.net = GlowConditioner(half, hidden, half * per, factor)

    def _spline(self, v, theta, inverse):
        b, c, h, w = v.shape
        k = self.bins
        t = theta.reshape(b, c, 3 * k - 1, h, w).permute(0, 1, 3, 4, 2)
        out, log_d = _spline(v, t[..., :k], t[..., k:2 * k], t[..., 2 * k:], self.bound, inverse)
        return out, _sum_per_sample(log_d)

    def _shift_log_scale(self, theta):
        b, c2, h, w = theta.shape
        r = theta.reshape(b, c2 // 2, 2, h, w)
        return r[:, :, 0], F.logsigmoid(r[:, :, 1] + 2.0)

    def forward(self, x):
        x1, x2 = x.chunk(2, 1)
        theta = self.net(x1)
        if self.kind == "additive":
            return torch.cat([x1, x2 + theta], 1), x.new_zeros(x.shape[0])
        if self.kind == "spline":
            y2, ld = self._spline(x2, theta, False)
            return torch.cat([x1, y2], 1), ld
        shift, log_scale = self._shift_log_scale(theta)
        return torch.cat([x1, (x2 + shift) * log_scale.exp()], 1), _sum_per_sample(log_scale)

    def inverse(self, y):
        y1, y2 = y.chunk(2, 1)
        theta = self.net(y1)
        if self.kind == "additive":
            return torch.cat([y1, y2 - theta], 1), y.new_zeros(y.shape[0])
        if self.kind == "spline":
            x2, ld = self._spline(y2, theta, True)
            return torch.cat([y1, x2], 1), ld
        shift, log_scale = self._shift_log_scale(theta)
        return torch.cat([y1, y2 * (-log_scale).exp() - shift], 1), -_sum_per_sample(log_scale)


class FlowStep(nn.Module):
    def __init__(self, cfg, level, c, h, w):
        super().__init__()
        self.actnorm = ActNorm(c)
        p = cfg["permutation"]
        if p == "woodbury":
            self.permutation = WoodburyTransform(c, h, w, cfg["d_c"][level], cfg["d_s"][level])
        elif p == "me-woodbury":
            self.permutation = MeWoodburyTransform(c, h, w, cfg["d_c"][level], cfg["d_h"][level], cfg["d_w"][level])
        elif p in ("conv1x1", "conv1x1-lu"):
            self.permutation = Conv1x1(c, p == "conv1x1-lu")
        elif p == "reverse":
            self.permutation = Reverse()
        elif p == "periodic":
            self.permutation = PeriodicConv(c, cfg["kernel"])
        elif p == "emerging":
            self.permutation = EmergingConv(c, cfg["kernel"])
        if cfg["coupling"] == "macow":
            self.coupling = MaCowUnit(c, cfg["hidden"], cfg["kernel"], cfg["logscale_factor"])
        else:
            self.coupling = Coupling(c, cfg["hidden"], cfg["coupling"], cfg["logscale_factor"], cfg["spline_bins"],
                                     cfg["spline_bound"])

    def layers(self):
        return [self.actnorm, self.permutation, self.coupling]


class Split(nn.Module):
    """(x1, z2) -> (x1, eps), eps = (z2 - mean) exp(-logs), mean/logs = even/odd channels of ZeroConv3x3(x1);
    log-det -sum(logs). The prior's ZeroConv scale factor is 1 whatever the couplings use (as woodflow)."""

    def __init__(self, c):
        super().__init__()
        self.prior = ZeroConv(c // 2, c, 3, 1.0)

    def mean_log_std(self, x1):
        h = self.prior(x1)
        b, c, hh, ww = h.shape
        r = h.reshape(b, c // 2, 2, hh, ww)
        return r[:, :, 0], r[:, :, 1]

    def forward(self, x):
        x1, z2 = x.chunk(2, 1)
        mean, logs = self.mean_log_std(x1)
        return torch.cat([x1, (z2 - mean) * (-logs).exp()], 1), -_sum_per_sample(logs)

    def inverse(self, y):
        x1, eps = y.chunk(2, 1)
        mean, logs = self.mean_log_std(x1)
        return torch.cat([x1, mean + logs.exp() * eps], 1), _sum_per_sample(logs)


class TopPrior(nn.Module):
    """eps = (z - mean) exp(-logs), log-det -sum(logs); the identity when the top prior is not learned."""

    def __init__(self, c, h, w, learned):
        super().__init__()
        self.learned = learned
        if learned:
            self.mean = nn.Parameter(torch.zeros(1, c, h, w))
            self.logs = nn.Parameter(torch.zeros(1, c, h, w))

    def forward(self, z):
        if not self.learned:
            return z, z.new_zeros(z.shape[0])
        return (z - self.mean) * (-self.logs).exp(), (-self.logs.sum()).expand(z.shape[0])

    def inverse(self, eps):
        if not self.learned:
            return eps, eps.new_zeros(eps.shape[0])
        return self.mean + self.logs.exp() * eps, self.logs.sum().expand(eps.shape[0])


def squeeze(x):
    b, c, h, w = x.shape
    return x.reshape(b, c, h // 2, 2, w // 2, 2).permute(0, 1, 3, 5, 2, 4).reshape(b, c * 4, h // 2, w // 2)


def unsqueeze(y):
    b, c, h, w = y.shape
    return y.reshape(b, c // 4, 2, 2, h, w).permute(0, 1, 4, 2, 5, 3).reshape(b, c // 4, h * 2, w * 2)


class Level(nn.Module):
    def __init__(self, cfg, level, c, h, w):
        super().__init__()
        self.n_steps = cfg["steps"]
        for k in range(cfg["steps"]):
            self.add_module(f"step{k}", FlowStep(cfg, level, c, h, w))
        if level < cfg["levels"] - 1:
            self.split = Split(c)
        else:
            self.split = None

    def steps(self):
        return [getattr(self, f"step{k}") for k in range(self.n_steps)]


class _DequantizerStep(nn.Module):
    """One affine coupling of the dequantiser: z -> z exp(s) + t, (s~, t) = ZeroConv(ReLU(conv3x3([other, f]))),
    s = 2 tanh(s~ / 2)."""

    def __init__(self, half, hidden):
        super().__init__()
        self.conv = nn.Conv2d(half + hidden, hidden, 3, padding=1)
        self.out = ZeroConv(hidden, 2 * half, 3, 1.0)

    def scale_shift(self, other, features):
        s, t = self.out(F.relu(self.conv(torch.cat([other, features], 1)))).chunk(2, 1)
        return 2 * torch.tanh(s / 2), t


class VariationalDequantizer(nn.Module):
    """woodflow's model/VariationalDequantizer (Flow++'s variational dequantisation): noise v in (0, 1/n_bins)^D from
    e ~ N(0, I) through checkerboard affine couplings on the squeezed image, conditioned on the centred image c by a
    shallow conv net, then a sigmoid and 1/n_bins. dequantize(c, e) returns x~ = c + v and log q(v | x):

        log q(v | x) = log N(e) - [(HW/2) sum base_logs + sum_k sum s_k + sum (log sig(h) + log sig(-h)) - D ln n_bins]
    """

    def __init__(self, channels, steps, hidden):
        super().__init__()
        self.channels = channels
        self.base_logs = nn.Parameter(torch.full((1, 2 * channels, 1, 1), math.log(1.6)))
        self.context = nn.Module()
        self.context.conv1 = nn.Conv2d(4 * channels, hidden, 3, padding=1)
        self.context.conv2 = nn.Conv2d(hidden, hidden, 3, padding=1)
        self.n_steps = steps
        for k in range(steps):
            self.add_module(f"step{k}", _DequantizerStep(2 * channels, hidden))

    def features(self, centred):
        return F.relu(self.context.conv2(F.relu(self.context.conv1(squeeze(centred)))))

    def _halves(self, sq):
        b, _, h, w = sq.shape
        blocks = sq.reshape(b, self.channels, 4, h, w)
        diagonal = torch.cat([blocks[:, :, 0:1], blocks[:, :, 3:4]], 2).reshape(b, 2 * self.channels, h, w)
        return diagonal, blocks[:, :, 1:3].reshape(b, 2 * self.channels, h, w)

    def _whole(self, diagonal, other):
        b, _, h, w = diagonal.shape
        d = diagonal.reshape(b, self.channels, 2, h, w)
        o = other.reshape(b, self.channels, 2, h, w)
        return torch.cat([d[:, :, 0:1], o, d[:, :, 1:2]], 2).reshape(b, 4 * self.channels, h, w)

    def dequantize(self, centred, noise, n_bins):
        """(x~, log q(v | x)) for centred images c = x_b / n_bins - 0.5 and base noise e ~ N(0, I) of their shape."""
        f = self.features(centred)
        a, b = self._halves(squeeze(noise))
        scale = self.base_logs.exp()
        a, b = a * scale, b * scale
        log_det = self.base_logs.sum() * (2.0 * a.shape[2] * a.shape[3])
        for k in range(self.n_steps):
            step = getattr(self, f"step{k}")
            if k % 2 == 0:
                s, t = step.scale_shift(a, f)
                b = b * s.exp() + t
            else:
                s, t = step.scale_shift(b, f)
                a = a * s.exp() + t
            log_det = log_det + _sum_per_sample(s)
        h = unsqueeze(self._whole(a, b))
        d = float(h.shape[1] * h.shape[2] * h.shape[3])
        log_det = log_det + _sum_per_sample(F.logsigmoid(h) + F.logsigmoid(-h)) - d * math.log(n_bins)
        log_n = _sum_per_sample(noise.pow(2) + _LOG_2PI) * -0.5
        return centred + torch.sigmoid(h) / n_bins, log_n - log_det


class MultiScaleFlow(nn.Module):
    """woodflow's model. Inputs are dequantised images in [-0.5, 0.5) of shape (B, C, H, W); a model trained with
    data.dequantization: variational also has its dequantiser (``self.dequantizer``, else None)."""

    def __init__(self, cfg, n_bits=8, dequantizer=None):
        super().__init__()
        self.config = cfg
        self.n_bits = n_bits
        if dequantizer is not None:
            self.dequantizer = VariationalDequantizer(cfg["channels"], dequantizer[0], dequantizer[1])
        else:
            self.dequantizer = None
        self.n_levels = cfg["levels"]
        for l in range(cfg["levels"]):
            c, h, w = level_shape(cfg, l)
            self.add_module(f"level{l}", Level(cfg, l, c, h, w))
        c, h, w = level_shape(cfg, cfg["levels"] - 1)
        self.top = TopPrior(c, h, w, cfg["learn_top"])

    def levels(self):
        return [getattr(self, f"level{l}") for l in range(self.n_levels)]

    def latent_shapes(self):
        out = []
        for l in range(self.n_levels):
            c, h, w = level_shape(self.config, l)
            out.append((c // 2 if l < self.n_levels - 1 else c, h, w))
        return out

    def _check(self, x):
        cfg = self.config
        want = (cfg["channels"], cfg["height"], cfg["width"])
        if x.dim() != 4 or tuple(x.shape[1:]) != want:
            raise ValueError(f"the model takes images of shape (B, {want[0]}, {want[1]}, {want[2]}), "
                             f"got {tuple(x.shape)}")

    def encode_with_log_det(self, x):
        """Data to latents: (list of every level's latent eps_l, total log-det of shape (B))."""
        self._check(x)
        latents, log_det, h = [], x.new_zeros(x.shape[0]), x
        for level in self.levels():
            h = squeeze(h)
            for step in level.steps():
                for layer in step.layers():
                    h, ld = layer(h)
                    log_det = log_det + ld
            if level.split is not None:
                h, ld = level.split(h)
                log_det = log_det + ld
                half = h.shape[1] // 2
                latents.append(h[:, half:])
                h = h[:, :half]
        h, ld = self.top(h)
        latents.append(h)
        return latents, log_det + ld

    def encode(self, x):
        """Data to latents: the list eps_0 ... eps_{L-1}; decode(encode(x)) gives x back to float precision."""
        return self.encode_with_log_det(x)[0]

    def decode(self, latents):
        """Latents (as encode returns them) to data, the exact inverse of encode."""
        if len(latents) != self.n_levels:
            raise ValueError(f"decode needs {self.n_levels} latents, got {len(latents)}")
        h, _ = self.top.inverse(latents[-1])
        for l in reversed(range(self.n_levels)):
            level = getattr(self, f"level{l}")
            if level.split is not None:
                h, _ = level.split.inverse(torch.cat([h, latents[l]], 1))
            for step in reversed(level.steps()):
                for layer in reversed(step.layers()):
                    h, _ = layer.inverse(h)
            h = unsqueeze(h)
        return h

    def log_prob(self, x):
        """log p(x) per sample for continuous (dequantised) x."""
        latents, lp = self.encode_with_log_det(x)
        for z in latents:
            lp = lp + _sum_per_sample(z.pow(2) + _LOG_2PI) * -0.5
        return lp

    def bits_per_dim(self, x, n_bits=None, log_q=None):
        """-(log p(x) - log q) / (D ln 2) per sample, x dequantised in [-0.5, 0.5); log q = D ln(n_bins) for uniform
        noise (log_q None), else the variational dequantiser's log q(v | x) (see dequantize)."""
        n_bins = 2 ** (self.n_bits if n_bits is None else n_bits)
        d = float(x.shape[1] * x.shape[2] * x.shape[3])
        if log_q is None:
            return (self.log_prob(x) - d * math.log(n_bins)) * (-1.0 / (d * math.log(2)))
        return (self.log_prob(x) - log_q) * (-1.0 / (d * math.log(2)))

    def dequantize(self, centred, noise):
        """(x~, log q) for centred images c = x_b / n_bins - 0.5 and base noise of their shape: U(0, 1) for uniform
        dequantisation (log q None), N(0, I) for the variational dequantiser."""
        n_bins = 2 ** self.n_bits
        if self.dequantizer is None:
            return centred + noise / n_bins, None
        return self.dequantizer.dequantize(centred, noise, n_bins)

    @torch.no_grad()
    def sample(self, n, temperature=1.0, generator=None):
        """n images at temperature T (every latent mean + exp(logs) T eps), continuous values in about [-0.5, 0.5);
        to_pixels turns them into uint8 images."""
        if not temperature >= 0 or math.isinf(temperature):
            raise ValueError(f"temperature must be a finite number >= 0, got {temperature}")
        p = next(self.parameters())
        latents = [torch.randn((n,) + s, generator=generator, dtype=p.dtype, device=p.device) * temperature
                   for s in self.latent_shapes()]
        return self.decode(latents)


def level_shape(cfg, level):
    f = 2 ** (level + 1)
    c = cfg["channels"] * 4 * 2 ** level
    return c, cfg["height"] // f, cfg["width"] // f
