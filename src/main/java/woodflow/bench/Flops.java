package woodflow.bench;

import woodflow.model.ModelConfig;

/**
 * The floating-point work of one forward pass of a multi-scale flow, counted analytically from its config: the
 * convolutions of the coupling networks and split priors (2 * B * H * W * C_out * C_in * k^2 each) and the matrix
 * products of the permutation layers. A training iteration is taken as 3x the forward (forward, then a backward of
 * about twice its cost). Element-wise work is not counted, so this is a lower bound of what a step computes.
 */
public final class Flops {
    private Flops() {}

    public static double forward(ModelConfig m, int batch) {
        double total = 0;
        for (int l = 0; l < m.levels(); l++) {
            int[] s = m.levelShape(l);
            double c = s[0], hw = (double) s[1] * s[2], hid = m.hidden();
            for (int k = 0; k < m.steps(); k++) {
                total += permutation(m, l, c, s[1], s[2]);
                double half = c / 2;
                total += switch (m.coupling()) {
                    case "additive" -> conv(hw, half, hid, 3) + conv(hw, hid, hid, 1) + conv(hw, hid, half, 3);
                    case "spline" -> conv(hw, half, hid, 3) + conv(hw, hid, hid, 1)
                            + conv(hw, hid, half * (3 * m.splineBins() - 1), 3);
                    case "macow" -> 4 * (conv(hw, c, hid, 3) + conv(hw, hid, 2 * c, 3));
                    default -> conv(hw, half, hid, 3) + conv(hw, hid, hid, 1) + conv(hw, hid, c, 3);
                };
            }
            if (l < m.levels() - 1) total += conv(hw, c / 2, c, 3);
        }
        return total * batch;
    }

    private static double conv(double hw, double in, double out, int k) {
        return 2 * hw * in * out * k * k;
    }

    private static double permutation(ModelConfig m, int l, double c, int h, int w) {
        double n = (double) h * w;
        return switch (m.permutation()) {
            case "woodbury" -> 4 * m.dC()[l] * c * n + 4 * m.dS()[l] * c * n;
            case "me-woodbury" -> 4 * m.dC()[l] * c * n + 4 * m.dW()[l] * c * n + 4 * m.dH()[l] * c * n;
            case "conv1x1", "conv1x1-lu" -> 2 * c * c * n;
            case "emerging" -> 2 * c * c * n + 2 * 2 * c * c * m.kernel() * m.kernel() * n;
            case "periodic" -> 2 * c * c * m.kernel() * m.kernel() * n;
            default -> 0;
        };
    }
}
