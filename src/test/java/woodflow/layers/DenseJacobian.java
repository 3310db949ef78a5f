package woodflow.layers;

import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import woodflow.core.Tensors;

import java.util.function.UnaryOperator;

/** The dense Jacobian of a map of one sample, by autograd, one output at a time (tiny inputs only). */
public final class DenseJacobian {
    private DenseJacobian() {}

    /**
     * {@code J[j][i] = d f(x)_j / d x_i} with x and f(x) flattened in their (C, H, W) order; x has batch size 1.
     */
    public static double[][] of(UnaryOperator<Tensor> f, Tensor x0) {
        Tensor x = x0.detach().clone().requires_grad_(true);
        Tensor y = f.apply(x).reshape(-1);
        int n = (int) y.numel();
        double[][] jac = new double[n][];
        for (int j = 0; j < n; j++) {
            TensorVector g = torch.grad(new TensorVector(y.select(0, j)), new TensorVector(x), new TensorVector(),
                    new BoolOptional(true), false, true);
            Tensor gj = g.get(0);
            jac[j] = gj.defined() ? Tensors.toDoubles(gj) : new double[(int) x.numel()];
        }
        return jac;
    }

    /** Index of (channel, row, column) in a flattened (C, H, W) tensor. */
    public static int index(int channel, int row, int column, int h, int w) {
        return (channel * h + row) * w + column;
    }
}
