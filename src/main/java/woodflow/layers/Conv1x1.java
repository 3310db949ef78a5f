package woodflow.layers;

import woodflow.core.Tensors;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import woodflow.core.FlowLayer;
import woodflow.core.FlowResult;
import woodflow.core.Init;

import static woodflow.core.Tensors.s;

/**
 * Glow's invertible 1x1 convolution (Kingma &amp; Dhariwal, 2018): the same c x c matrix W at every pixel,
 * initialised as a random rotation.
 *
 * <pre>
 *   forward:  y = W x           log-det = h*w * log|det W|
 *   inverse:  x = W^-1 y        log-det = -h*w * log|det W|
 *   LU form:  W = P L (U + diag(sign * exp(logs)))   with P fixed, L unit lower, U strictly upper;
 *             log-det = h*w * sum(logs)
 * </pre>
 * The determinant and inverse are computed in float64. Cost O(c^2 h w + c^3).
 */
public final class Conv1x1 extends FlowLayer {
    private final int c;
    private final boolean lu;
    private Tensor weight;
    private Tensor perm;
    private Tensor lower;
    private Tensor upper;
    private Tensor logS;
    private Tensor signS;

    public Conv1x1(int c, boolean lu, Init init) {
        if (c <= 0) throw new IllegalArgumentException("1x1 convolution needs a positive channel count, got " + c);
        this.c = c;
        this.lu = lu;
        Tensor q;
        try (NoGradGuard g = new NoGradGuard()) {
            q = torch.linalg_qr(init.normal(1, c, c).to(ScalarType.Double)).get0().clone();
        }
        if (!lu) {
            weight = param("weight", q.to(init.dtype()));
        } else {
            var plu = torch.linalg_lu(q);
            Tensor p = Tensors.own(plu.get0()), l = Tensors.own(plu.get1()), u = Tensors.own(plu.get2());
            Tensor diag = u.diagonal();
            perm = buffer("P", p.to(init.dtype()));
            signS = buffer("sign", torch.sign(diag).to(init.dtype()));
            lower = param("L", l.tril(-1).to(init.dtype()));
            upper = param("U", u.triu(1).to(init.dtype()));
            logS = param("logs", torch.abs(diag).log().to(init.dtype()));
        }
    }

    /** The matrix W (differentiable in the parameters). */
    public Tensor matrix() {
        if (!lu) return weight;
        Tensor eye = torch.eye(c, woodflow.core.Tensors.optionsLike(lower));
        Tensor l = lower.tril(-1).add(eye);
        Tensor u = upper.triu(1).add(torch.diag_embed(signS.mul(logS.exp())));
        return perm.matmul(l.matmul(u));
    }

    private Tensor logDet(Tensor x, double sign) {
        double hw = (double) x.size(2) * x.size(3);
        Tensor ld = lu ? logS.sum() : Tensors.own(torch.linalg_slogdet(weight.to(ScalarType.Double)).get1());
        return ld.mul(s(sign * hw)).to(Tensors.dtype(x)).expand(x.size(0));
    }

    @Override
    public FlowResult forward(Tensor x) {
        long b = x.size(0), h = x.size(2), w = x.size(3);
        Tensor y = matrix().matmul(x.reshape(b, c, h * w)).reshape(b, c, h, w);
        return new FlowResult(y, logDet(x, 1));
    }

    @Override
    public FlowResult inverse(Tensor y) {
        long b = y.size(0), h = y.size(2), w = y.size(3);
        Tensor inv = torch.linalg_inv(matrix().to(ScalarType.Double)).to(Tensors.dtype(y));
        Tensor x = inv.matmul(y.reshape(b, c, h * w)).reshape(b, c, h, w);
        return new FlowResult(x, logDet(y, -1));
    }
}
