package woodflow.train;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import woodflow.core.Foreach;
import woodflow.core.Tensors;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static woodflow.core.Tensors.s;

/**
 * Adam (Kingma &amp; Ba, 2015) with decoupled weight decay (Loshchilov &amp; Hutter, 2019), written out so that its
 * state (first and second moments per parameter, step count) is saved in checkpoints by parameter name:
 * <pre>
 *   m = b1 m + (1 - b1) g,   v = b2 v + (1 - b2) g^2
 *   p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)  +  lr * wd * p
 * </pre>
 * Moments are kept in float32 (the parameters' precision), whatever the autocast mode.
 */
public final class Adam {
    private final Map<String, Tensor> params;
    private final Map<String, Tensor> m = new LinkedHashMap<>();
    private final Map<String, Tensor> v = new LinkedHashMap<>();
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    /** {@code -Dwoodflow.fusedAdam=false} forces the per-tensor path (to compare the two). */
    private static final boolean FUSED = !"false".equals(System.getProperty("woodflow.fusedAdam"));
    private long step;
    private Tensor stepTensor;

    public Adam(Map<String, Tensor> params, double beta1, double beta2, double eps, double weightDecay) {
        this.params = params;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        try (NoGradGuard g = new NoGradGuard()) {
            for (var e : params.entrySet()) {
                m.put(e.getKey(), Tensors.keep(torch.zeros_like(e.getValue())));
                v.put(e.getKey(), Tensors.keep(torch.zeros_like(e.getValue())));
            }
        }
    }

    public long step() {
        return step;
    }

    /**
     * Clears every parameter's gradient by dropping it (PyTorch's {@code zero_grad(set_to_none=True)}): the next
     * backward's gradient becomes the parameter's gradient without a zero pass or an add, and between the update and
     * the next backward the gradients' memory is free for the forward's activations (config c: 44 MB of the peak).
     * A gradient then exists exactly when the last backward reached the parameter.
     */
    public void zeroGrad() {
        try (PointerScope scope = new PointerScope()) {
            for (Tensor p : params.values()) {
                if (p.grad().defined()) p.mutable_grad().put(new Tensor());
            }
        }
    }

    /** The parameters' defined gradients, in order. */
    private List<Tensor> grads() {
        List<Tensor> out = new ArrayList<>(params.size());
        for (Tensor p : params.values()) {
            Tensor g = p.grad();
            if (g.defined()) out.add(g);
        }
        return out;
    }

    /** The global L2 norm of all gradients (missing gradients count as zero). */
    public double gradNorm() {
        try (NoGradGuard ng = new NoGradGuard(); PointerScope scope = new PointerScope()) {
            List<Tensor> grads = grads();
            if (grads.isEmpty()) return 0;
            // One pass per tensor, no squared copy: |g|^2 from the norm (finite exactly when every element is).
            List<Tensor> norms = Foreach.available() ? Foreach.norms(grads) : null;
            List<Tensor> each = new ArrayList<>(grads.size());
            if (norms != null) {
                for (Tensor n : norms) each.add(n.reshape(1));
            } else {
                for (Tensor g : grads) each.add(g.norm().reshape(1));
            }
            return Math.sqrt(Tensors.cat(each, 0).square().sum().item_double());
        }
    }

    /** Scales all gradients by {@code factor} (for gradient-norm clipping). */
    public void scaleGrads(double factor) {
        try (NoGradGuard ng = new NoGradGuard()) {
            for (Tensor p : params.values()) {
                Tensor g = p.grad();
                if (g.defined()) g.mul_(s(factor));
            }
        }
    }

    /**
     * One update with learning rate {@code lr}. Parameters whose gradient and moments share their layout go through
     * libtorch's fused AdamW kernel in one call ({@link Foreach#fusedAdamW}); any other parameter (or all of them,
     * when the engine lacks the kernel) through the same recurrence written out per tensor.
     */
    public void update(double lr) {
        step++;
        try (NoGradGuard ng = new NoGradGuard(); PointerScope scope = new PointerScope()) {
            List<Tensor> ps = new ArrayList<>(), gs = new ArrayList<>(), ms = new ArrayList<>(), vs = new ArrayList<>();
            for (var e : params.entrySet()) {
                Tensor p = e.getValue(), g = p.grad();
                if (!g.defined()) continue;
                Tensor mt = m.get(e.getKey()), vt = v.get(e.getKey());
                if (FUSED && Foreach.available() && sameLayout(p, g, mt, vt)) {
                    ps.add(p);
                    gs.add(g);
                    ms.add(mt);
                    vs.add(vt);
                } else {
                    updateOne(p, g, mt, vt, lr);
                }
            }
            if (!ps.isEmpty()) {
                if (stepTensor == null || !stepTensor.device().equals(ps.get(0).device())) {
                    Tensors.release(stepTensor);
                    stepTensor = Tensors.keep(ps.get(0).new_zeros(1).to(torch.ScalarType.Float));
                }
                stepTensor.fill_(s((double) step));
                if (Foreach.fusedAdamW(ps, gs, ms, vs, stepTensor, lr, beta1, beta2, weightDecay, eps)) {
                    // The boxed kernel writes the parameters without counting it: bump their version counters,
                    // which eval-mode caches (a Woodbury factor's inverse and log-det) use to see a change.
                    for (Tensor p : ps) p.unsafeGetTensorImpl().bump_version();
                } else {
                    for (int i = 0; i < ps.size(); i++) updateOne(ps.get(i), gs.get(i), ms.get(i), vs.get(i), lr);
                }
            }
        }
    }

    private static boolean sameLayout(Tensor p, Tensor g, Tensor mt, Tensor vt) {
        return p.is_contiguous() && g.is_contiguous() && mt.is_contiguous() && vt.is_contiguous()
                && Tensors.dtype(g).equals(Tensors.dtype(p));
    }

    private void updateOne(Tensor p, Tensor g, Tensor mt, Tensor vt, double lr) {
        double bc1 = 1 - Math.pow(beta1, step), bc2 = 1 - Math.pow(beta2, step);
        // A scope per parameter frees its denominator at once; the update is memory-bound, so it makes as few passes
        // over the parameter as it can: m = lerp(m, g, 1 - b1) is b1 m + (1 - b1) g in one.
        try (PointerScope scope = new PointerScope()) {
            mt.lerp_(g, s(1 - beta1));
            vt.mul_(s(beta2)).addcmul_(g, g, s(1 - beta2));
            Tensor denom = vt.sqrt().div_(s(Math.sqrt(bc2))).add_(s(eps));
            if (weightDecay > 0) p.mul_(s(1 - lr * weightDecay));
            p.addcdiv_(mt, denom, s(-lr / bc1));
        }
    }

    /** The optimiser state by name: {@code adam.m.NAME}, {@code adam.v.NAME}. */
    public Map<String, Tensor> state() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        m.forEach((k, t) -> out.put("adam.m." + k, t));
        v.forEach((k, t) -> out.put("adam.v." + k, t));
        return out;
    }

    private static void checkMoment(List<String> problems, Map<String, Tensor> state, String name, Tensor mine) {
        Tensor saved = state.get(name);
        if (saved == null) problems.add("missing " + name);
        else if (saved.numel() != mine.numel()) problems.add(name + " has the wrong size");
    }

    /** Restores moments and step from a checkpoint; every parameter must have both moments of matching shape. */
    public void load(Map<String, Tensor> state, long step) {
        List<String> problems = new ArrayList<>();
        for (String k : params.keySet()) {
            checkMoment(problems, state, "adam.m." + k, m.get(k));
            checkMoment(problems, state, "adam.v." + k, v.get(k));
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("optimiser state does not fit the model: "
                    + String.join("; ", problems.subList(0, Math.min(8, problems.size()))));
        }
        try (NoGradGuard ng = new NoGradGuard()) {
            for (String k : params.keySet()) {
                m.get(k).copy_(state.get("adam.m." + k).reshape(Tensors.shape(m.get(k))));
                v.get(k).copy_(state.get("adam.v." + k).reshape(Tensors.shape(v.get(k))));
            }
        }
        this.step = step;
    }
}
