package woodflow.sample;

import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import woodflow.core.Halves;
import woodflow.core.Tensors;
import woodflow.picture.ImageGrid;
import woodflow.data.Quantization;
import woodflow.model.MultiScaleFlow;

import java.util.ArrayList;
import java.util.List;

/**
 * Sampling, temperature sweeps and reconstructions as 8-bit images (docs/FORMULAS.md): latents
 * mean + exp(logs) * T * eps, the model run backwards, then {@code floor((x + 0.5) * n_bins) * (256 / n_bins)} clamped to [0, 255].
 */
public final class Sampler {
    private Sampler() {}

    /**
     * {@code n} samples at temperature T, seeded, as a (n, C, H, W) uint8 tensor; a class-conditional model draws its
     * classes in turn (sample i is of class i mod K, see {@link #inTurn}).
     */
    public static Tensor sample(MultiScaleFlow model, int n, double temperature, int nBits, long seed) {
        return sample(model, n, temperature, nBits, seed, model.classConditional() ? inTurn(n, model) : null);
    }

    /** The classes in turn for {@code n} samples: 0, 1, ..., K-1, 0, 1, ... */
    public static int[] inTurn(int n, MultiScaleFlow model) {
        int[] y = new int[n];
        for (int i = 0; i < n; i++) y[i] = i % model.classes().size();
        return y;
    }

    /**
     * As above, sample i of class {@code labels[i]} (a class-conditional model; null for any other). The latent noise
     * is the same whatever the classes: the same seed draws the same eps, and only the priors' means and spreads move.
     */
    public static Tensor sample(MultiScaleFlow model, int n, double temperature, int nBits, long seed, int[] labels) {
        if (labels != null && labels.length != n) {
            throw new IllegalArgumentException(labels.length + " class labels for " + n + " samples");
        }
        if (model.classConditional() && labels == null) {
            throw new IllegalArgumentException("this model is class-conditional (classes " + String.join(", ",
                    model.classes()) + "): say which classes to draw");
        }
        boolean was = model.isTraining();
        model.train(false);
        try (NoGradGuard g = new NoGradGuard(); var c = labels == null ? null : model.conditionedOn(labels)) {
            torch.manual_seed(seed);
            Tensor x = decode(model, n, temperature);
            if (!Tensors.allFinite(x)) {
                throw new woodflow.core.NumericalException("sampling at temperature " + temperature
                        + " produced non-finite pixels: " + (temperature > 1 ? "the temperature is too large for "
                        + "this model (its inverse overflows); use a temperature of 1 or less (0.5 to 1 is usual)"
                        : "the model is numerically broken"));
            }
            return Quantization.toPixels(x, nBits);
        } finally {
            model.train(was);
        }
    }

    /**
     * {@code model.sample(n, T)}: the latents drawn here (the same numbers for the same seed), decoded as two halves
     * on two threads where the process has them ({@link Halves}; each image is decoded on its own, so only the
     * kernels' summation order can differ from one batch).
     */
    static Tensor decode(MultiScaleFlow model, int n, double temperature) {
        // a class-conditional model holds one set of labels for the whole batch: it decodes on this thread
        Halves halves = n >= Halves.MIN_ROWS && !model.classConditional() ? Halves.forThisProcess() : null;
        if (halves == null) return model.sample(n, temperature);
        woodflow.model.Temperature.MODEL.check(temperature);
        List<Tensor> latents = model.drawLatents(n, temperature, model.parameters().get(0));
        int first = (int) Halves.firstRows(n);
        Tensor[] parts = halves.tensors(() -> decodeRows(model, latents, 0, first),
                () -> decodeRows(model, latents, first, n - first));
        return Tensors.cat(0, parts[0], parts[1]);
    }

    private static Tensor decodeRows(MultiScaleFlow model, List<Tensor> latents, long from, long rows) {
        try (NoGradGuard g = new NoGradGuard()) { // grad mode is per thread
            List<Tensor> part = new ArrayList<>();
            for (Tensor z : latents) part.add(z.narrow(0, from, rows));
            return model.decode(part);
        }
    }

    /**
     * One row of {@code perRow} samples per temperature, the same noise in every row (a class-conditional model: the
     * classes in turn along each row, or all of class {@code label} when it is not null).
     */
    public static List<byte[]> temperatureSweep(MultiScaleFlow model, double[] temperatures, int perRow, int nBits,
                                                long seed, Integer label) {
        int[] labels = !model.classConditional() ? null : label == null ? inTurn(perRow, model) : fill(perRow, label);
        List<byte[]> out = new ArrayList<>();
        for (double t : temperatures) out.addAll(ImageGrid.images(sample(model, perRow, t, nBits, seed, labels)));
        return out;
    }

    public static List<byte[]> temperatureSweep(MultiScaleFlow model, double[] temperatures, int perRow, int nBits,
                                                long seed) {
        return temperatureSweep(model, temperatures, perRow, nBits, seed, null);
    }

    /** {@code n} copies of {@code label}. */
    public static int[] fill(int n, int label) {
        int[] y = new int[n];
        java.util.Arrays.fill(y, label);
        return y;
    }

    /** Pairs of rows: the images, then decode(encode(images)). */
    public static List<byte[]> reconstructions(MultiScaleFlow model, Tensor uint8, int nBits) {
        return reconstructions(model, uint8, nBits, null);
    }

    /**
     * As above; a class-conditional model encodes and decodes each image given the class {@code labels[i]} (null:
     * the classes in turn): any class gives the image back, since decode inverts encode for the same class.
     */
    public static List<byte[]> reconstructions(MultiScaleFlow model, Tensor uint8, int nBits, int[] labels) {
        boolean was = model.isTraining();
        model.train(false);
        int[] y = labels == null && model.classConditional() ? inTurn((int) uint8.size(0), model) : labels;
        try (NoGradGuard g = new NoGradGuard(); var c = y == null ? null : model.conditionedOn(y)) {
            // the centre of each pixel's bin, so the 8-bit round trip is exact
            Tensor x = Quantization.centred(woodflow.core.Devices.like(uint8, model.parameters().get(0)), nBits)
                    .add(Tensors.s(0.5 / Quantization.bins(nBits)));
            Tensor back = model.decode(model.encode(x).latents());
            List<byte[]> out = new ArrayList<>(ImageGrid.images(Quantization.toPixels(x, nBits)));
            out.addAll(ImageGrid.images(Quantization.toPixels(back, nBits)));
            return out;
        } finally {
            model.train(was);
        }
    }
}
