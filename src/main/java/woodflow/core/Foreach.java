package woodflow.core;

import org.bytedeco.pytorch.Dispatcher;
import org.bytedeco.pytorch.GenericList;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.IValueVector;
import org.bytedeco.pytorch.OperatorHandle;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorType;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.Type;

import java.util.ArrayList;
import java.util.List;

/**
 * libtorch's multi-tensor kernels, which the JavaCPP presets do not wrap as functions: they are called through the
 * dispatcher with a boxed argument stack. One call covers a whole list of tensors, so an optimiser step over a few
 * hundred parameters costs one native call instead of several per parameter. Each operation is looked up once; when
 * the engine lacks it, {@link #available} is false and callers use their per-tensor path.
 */
public final class Foreach {
    private static final OperatorHandle FUSED_ADAMW = find("aten::_fused_adamw_", "");
    private static final OperatorHandle ZERO = find("aten::_foreach_zero_", "");
    private static final OperatorHandle NORM = find("aten::_foreach_norm", "Scalar");

    private Foreach() {}

    private static OperatorHandle find(String name, String overload) {
        try {
            Tensors.load();
            // kept for the life of the process: the class may be initialised inside a caller's PointerScope
            OperatorHandle op = Dispatcher.singleton().findSchemaOrThrow(name, overload);
            op.retainReference();
            return op;
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static volatile boolean refused;

    /** Whether the fused Adam and the list kernels are there (and have not refused a call). */
    public static boolean available() {
        return FUSED_ADAMW != null && ZERO != null && NORM != null && !refused;
    }

    /**
     * Calls {@code op}; when the kernel raises an error (its checks of the lists' lengths, dtypes and devices come
     * before it writes anything), says so and returns false, and {@link #available} is false from then on. The
     * argument stack must match the operator's schema, which is written here for libtorch 2.10: the boxed call
     * does not check it, and {@code AdamTest} and {@code ForeachTest} exercise every call on the engine in use.
     */
    private static boolean call(OperatorHandle op, IValueVector stack) {
        try {
            op.callBoxed(stack);
            return true;
        } catch (RuntimeException e) {
            refused = true;
            String why = Reasons.firstLine(e.getMessage());
            System.err.println("woodflow: libtorch refused its multi-tensor kernel (" + why
                    + "); using the per-tensor path");
            return false;
        }
    }

    /** Test hook: forget an earlier refusal. */
    static void resetRefusal() {
        refused = false;
    }

    private static IValue list(List<Tensor> tensors) {
        GenericList l = new GenericList(new Type.TypePtr(TensorType.get()));
        for (Tensor t : tensors) l.push_back(new IValue(t));
        return new IValue(l);
    }

    /**
     * AdamW in one fused pass per tensor (torch.optim.AdamW(fused=True)): for every i,
     * {@code m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; p *= 1 - lr wd; p -= lr (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)},
     * with {@code t} read from {@code step} (a one-element tensor holding the step number, already counted).
     * Parameter, gradient and both moments must have the same shape and strides. Returns false, having changed
     * nothing, when the engine refused the call.
     */
    public static boolean fusedAdamW(List<Tensor> params, List<Tensor> grads, List<Tensor> m, List<Tensor> v, Tensor step,
                                  double lr, double beta1, double beta2, double weightDecay, double eps) {
        List<Tensor> steps = new ArrayList<>(params.size());
        for (int i = 0; i < params.size(); i++) steps.add(step);
        IValueVector stack = new IValueVector(list(params), list(grads), list(m), list(v), list(List.of()),
                list(steps), new IValue(lr), new IValue(beta1), new IValue(beta2), new IValue(weightDecay),
                new IValue(eps), new IValue(false), new IValue(false), new IValue(), new IValue());
        return call(FUSED_ADAMW, stack);
    }

    /** Sets every tensor of the list to zero; false (nothing changed) when the engine refused the call. */
    public static boolean zero(List<Tensor> tensors) {
        return tensors.isEmpty() || call(ZERO, new IValueVector(list(tensors)));
    }

    /** The L2 norm of each tensor, as 0-dim tensors in the list's order; null when the engine refused the call. */
    public static List<Tensor> norms(List<Tensor> tensors) {
        if (tensors.isEmpty()) return List.of();
        IValueVector stack = new IValueVector(list(tensors), new IValue(new org.bytedeco.pytorch.Scalar(2.0)),
                new IValue());
        if (!call(NORM, stack)) return null;
        TensorVector out = stack.get(0).toTensorVector();
        List<Tensor> norms = new ArrayList<>((int) out.size());
        for (long i = 0; i < out.size(); i++) norms.add(out.get(i));
        return norms;
    }
}
