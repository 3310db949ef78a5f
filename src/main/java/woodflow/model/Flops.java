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

    /** 2 * H * W * C_out * C_in * k^2: the multiply-adds of one convolution of an image of {@code hw} pixels. */
    static double conv(double hw, double in, double out, int k) {
        return 2 * hw * in * out * k * k;
    }
}
