package woodflow.model;

/**
 * The floating-point work of one forward pass of a multi-scale flow, counted analytically from its config: the
 * convolutions of the coupling networks and split priors (2 * B * H * W * C_out * C_in * k^2 each) and the matrix
 * products of the permutation layers (each {@link Permutation} and {@link CouplingType} counts its own, with
 * {@link #conv} for a convolution). A training iteration is taken as 3x the forward (forward, then
 * a backward of about twice its cost). Element-wise work is not counted, so this is a lower bound of what a step
 * computes.
 */
public final class Flops {
    private Flops() {}

    public static double forward(ModelConfig m, int batch) {
        double total = 0;
        for (int l = 0; l < m.levels(); l++) {
            int[] s = m.levelShape(l);
            double c = s[0], hw = (double) s[1] * s[2];
            for (int k = 0; k < m.steps(); k++) {
                total += m.permutation().flops(m, l, c, s[1], s[2]);
                total += m.coupling().flops(m, c, hw);
            }
            if (l < m.levels() - 1) total += conv(hw, c / 2, c, 3);
        }
        return total * batch;
    }

    /**
     * The convolutions of a variational dequantiser ({@link VariationalDequantizer}) for images of {@code m}'s shape,
     * per forward: its context net (two 3x3 convolutions at half the resolution) and each coupling step's two; 0 for
     * null (uniform noise).
     */
    public static double dequantizer(ModelConfig m, VariationalDequantizer.Spec spec, int batch) {
        if (spec == null) return 0;
        double hw = (double) m.height() * m.width() / 4, c4 = 4.0 * m.channels(), h = spec.hidden();
        double total = conv(hw, c4, h, 3) + conv(hw, h, h, 3);
        total += spec.steps() * (conv(hw, c4 / 2 + h, h, 3) + conv(hw, h, c4, 3));
        return total * batch;
    }

    /** 2 * H * W * C_out * C_in * k^2: the multiply-adds of one convolution of an image of {@code hw} pixels. */
    static double conv(double hw, double in, double out, int k) {
        return 2 * hw * in * out * k * k;
    }
}
