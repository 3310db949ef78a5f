package woodflow.sample;

import com.fasterxml.jackson.annotation.JsonCreator;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import woodflow.core.Choice;
import woodflow.core.Choices;
import woodflow.core.Devices;
import woodflow.core.Tensors;
import woodflow.data.Quantization;
import woodflow.model.MultiScaleFlow;
import woodflow.picture.ImageGrid;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static woodflow.core.Tensors.s;

/**
 * Latent interpolation between two images, as in Glow's demo: both are encoded (every level's latent eps_l, each
 * standard normal under the model), each level's latent is interpolated from A's to B's, and the path decoded:
 * <pre>
 *   x_A = the centre of each pixel's bin (decode(encode(x_A)) gives A back exactly), eps_l(A), eps_l(B) its latents
 *   linear     eps_l(t) = (1 - t) eps_l(A) + t eps_l(B)
 *   spherical  eps_l(t) = sin((1 - t) w) / sin w * eps_l(A) + sin(t w) / sin w * eps_l(B),
 *              w = the angle between eps_l(A) and eps_l(B) (per image pair and level; linear where w is ~0)
 *   t = 0, 1/(n-1), ..., 1 for a strip of n images
 * </pre>
 * A linear path through a high-dimensional Gaussian passes nearer the origin than either end, where the latents are
 * atypical (about 0.7 of their norm half-way for independent ends), so its middle images are smoother; the spherical
 * path keeps the norm. A class-conditional model encodes each end with its class and decodes along the mixed labels
 * {@code (1 - t) y_A + t y_B}: its class embedding is linear in the labels.
 */
public final class Interpolation {
    private Interpolation() {}

    /** The path between the latents ({@code --mode}): linear, spherical, or both (one row each). */
    public enum Mode implements Choice {
        LINEAR, SPHERICAL, BOTH;

        @Override
        public String toString() {
            return label();
        }

        @JsonCreator
        public static Mode parse(String name) {
            return Choices.parse(Mode.class, name, "interpolation mode");
        }

        /** The paths this mode draws, a row each. */
        List<Mode> rows() {
            return this == BOTH ? List.of(LINEAR, SPHERICAL) : List.of(this);
        }
    }

    /** The fewest and most images of a strip. */
    public static final int MIN_STEPS = 2, MAX_STEPS = 64;

    /** A drawn interpolation: rows of {@code steps} images (CHW bytes), the row names and the column labels. */
    public record Strip(List<byte[]> images, int steps, List<String> rows, List<String> columns) {
        /** The strip as a labelled PNG grid. */
        public byte[] png(int c, int h, int w, String title) {
            return ImageGrid.pngBytes(ImageGrid.renderLabelled(images, c, h, w, steps,
                    new ImageGrid.Labels(title, rows, columns)));
        }
    }

    /**
     * Interpolates between images {@code a} and {@code b} (C x H x W bytes at the model's shape) in {@code steps}
     * images per row. A class-conditional model needs the ends' classes ({@code labelA}, {@code labelB}); null for
     * any other model.
     */
    public static Strip between(MultiScaleFlow model, byte[] a, byte[] b, int steps, Mode mode, int nBits,
                                Integer labelA, Integer labelB) {
        if (steps < MIN_STEPS || steps > MAX_STEPS) {
            throw new IllegalArgumentException("--steps must be between " + MIN_STEPS + " and " + MAX_STEPS
                    + " (images in the strip, both ends included), got " + steps);
        }
        if (model.classConditional() && (labelA == null || labelB == null)) {
            throw new IllegalArgumentException("a class-conditional model needs the classes of both images");
        }
        var cfg = model.config();
        boolean was = model.isTraining();
        model.train(false);
        try (NoGradGuard g = new NoGradGuard()) {
            Tensor uint8 = Quantization.stack(List.of(a, b), cfg.channels(), cfg.height(), cfg.width());
            Tensor x = Quantization.centred(Devices.like(uint8, model.parameters().get(0)), nBits)
                    .add(s(0.5 / Quantization.bins(nBits)));
            List<Tensor> latents;
            try (var c = model.classConditional() ? model.conditionedOn(new int[] {labelA, labelB}) : null) {
                latents = model.encode(x).latents();
            }
            double[] ts = new double[steps];
            List<String> columns = new ArrayList<>();
            for (int i = 0; i < steps; i++) {
                ts[i] = i / (double) (steps - 1);
                columns.add(i == 0 ? "A" : i == steps - 1 ? "B" : String.format(Locale.ROOT, "%.2f", ts[i]));
            }
            List<byte[]> images = new ArrayList<>();
            List<String> rows = new ArrayList<>();
            for (Mode m : mode.rows()) {
                List<Tensor> path = new ArrayList<>();
                for (Tensor z : latents) path.add(interpolate(z.narrow(0, 0, 1), z.narrow(0, 1, 1), ts, m));
                Tensor decoded;
                try (var c = model.classConditional() ? model.conditionedOn(mixedLabels(model, labelA, labelB, ts))
                        : null) {
                    decoded = model.decode(path);
                }
                if (!Tensors.allFinite(decoded)) {
                    throw new woodflow.core.NumericalException("the " + m + " interpolation decoded to non-finite "
                            + "pixels: the model is numerically broken between these images");
                }
                images.addAll(ImageGrid.images(Quantization.toPixels(decoded, nBits)));
                rows.add(m.label());
            }
            return new Strip(images, steps, rows, columns);
        } finally {
            model.train(was);
        }
    }

    /** {@code (steps, ...)}: the path from {@code a} to {@code b} (each {@code (1, ...)}) at the times {@code ts}. */
    static Tensor interpolate(Tensor a, Tensor b, double[] ts, Mode mode) {
        double[] wa = new double[ts.length], wb = new double[ts.length];
        double omega = 0;
        if (mode == Mode.SPHERICAL) {
            double dot = a.mul(b).sum().item_double(), na = a.norm().item_double(), nb = b.norm().item_double();
            omega = Math.acos(Math.max(-1, Math.min(1, dot / (na * nb))));
        }
        for (int i = 0; i < ts.length; i++) {
            double t = ts[i];
            if (mode == Mode.SPHERICAL && omega > 1e-6) {
                wa[i] = Math.sin((1 - t) * omega) / Math.sin(omega);
                wb[i] = Math.sin(t * omega) / Math.sin(omega);
            } else {
                wa[i] = 1 - t;
                wb[i] = t;
            }
        }
        long[] shape = Tensors.shape(a);
        long[] col = new long[shape.length];
        java.util.Arrays.fill(col, 1);
        col[0] = ts.length;
        Tensor weightsA = Tensors.fromDoubles(wa, col).to(a.device(), Tensors.dtype(a));
        Tensor weightsB = Tensors.fromDoubles(wb, col).to(a.device(), Tensors.dtype(a));
        return weightsA.mul(a).add(weightsB.mul(b));
    }

    /** The labels along the path, {@code (steps, K)}: {@code (1 - t) y_A + t y_B}. */
    private static Tensor mixedLabels(MultiScaleFlow model, int labelA, int labelB, double[] ts) {
        int k = model.classes().size();
        double[] rows = new double[ts.length * k];
        for (int i = 0; i < ts.length; i++) {
            rows[i * k + labelA] += 1 - ts[i];
            rows[i * k + labelB] += ts[i];
        }
        Tensor like = model.parameters().get(0);
        return Tensors.fromDoubles(rows, ts.length, k).to(like.device(), Tensors.dtype(like));
    }
}
