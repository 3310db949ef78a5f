package woodflow.quality;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import woodflow.core.Init;
import woodflow.core.Module;
import woodflow.core.Tensors;
import woodflow.data.Quantization;
import woodflow.data.ShapeSource;
import woodflow.data.SplitMix64;
import woodflow.nn.Conv;
import woodflow.train.Adam;

import java.util.ArrayList;
import java.util.List;

/**
 * A number that tracks what a person sees in a grid of samples of the embedded shapes ({@link ShapeSource}): a small
 * convolutional network is trained, in a few seconds, on the generator's own labels (the shape's kind: disc, square
 * or ring), and {@link #confidentShare} is the share of images whose kind it names with probability at least
 * {@link #CONFIDENCE}. Colour is left out on purpose: the training images are recoloured at random, since a teal
 * disc is a disc to a person. Real test images score near 100%; blurry clouds of colour, two shapes blended into one and
 * uniform noise score near 0.
 *
 * <p>A fourth class, "no shape", keeps the network honest: it is trained on pictures a person would not name as one
 * shape (two training images of different kinds, one moved by a third to a half of the side and laid over the
 * other; a smooth random cloud of colour), so that a cloud is not forced onto the nearest shape. Two earlier kinds of
 * "no shape" were dropped because they taught the network to refuse what a person names: blurred shapes (a soft round
 * blob is still a disc), and the pixel average of two shapes of different kinds. Two large shapes near the centre,
 * averaged, make a shape with soft corners in an in-between colour, which is just what a flow's purple or teal square
 * looks like: with them the classifier gave "no shape" 0.97-1.00 to squares a person names at a glance, named no
 * square in any demo run, and scored the demo's samples 36-38%; without them, 59-73% (EXPERIMENTS.md). Uniform noise
 * is deliberately not among them: the noise share is an out-of-training check that the confidence means something.
 * <pre>
 *   conv 3x3 (C -> 16), ReLU, max-pool 2  ->  conv 3x3 (16 -> 32), ReLU, max-pool 2  ->  conv 3x3 (32 -> 64), ReLU
 *   ->  max over positions (a shape is the same shape anywhere)  ->  linear (64 -> 4)
 * </pre>
 * Images enter as the flow sees them ({@link Quantization#centred}: n-bit values scaled to [-0.5, 0.5)).
 */
public final class ShapeClassifier extends Module {
    /** The probability a label must reach for an image to count as recognisable. */
    public static final double CONFIDENCE = 0.9;
    /** The label of the "no shape" class. */
    static final int NO_SHAPE = ShapeSource.Kind.values().length;
    private static final int TRAIN_IMAGES = 3072;
    private static final int BATCH = 64;
    private static final int STEPS = 600;

    private final Tensor conv1, bias1, conv2, bias2, conv3, bias3, linear, bias4;
    private final int channels, size, nBits;

    private ShapeClassifier(int channels, int size, int nBits) {
        this.channels = channels;
        this.size = size;
        this.nBits = nBits;
        Init init = Init.float32();
        conv1 = param("conv1", init.normal(Math.sqrt(2.0 / (9 * channels)), 16, channels, 3, 3));
        bias1 = param("bias1", init.zeros(16));
        conv2 = param("conv2", init.normal(Math.sqrt(2.0 / (9 * 16)), 32, 16, 3, 3));
        bias2 = param("bias2", init.zeros(32));
        conv3 = param("conv3", init.normal(Math.sqrt(2.0 / (9 * 32)), 64, 32, 3, 3));
        bias3 = param("bias3", init.zeros(64));
        linear = param("linear", init.normal(Math.sqrt(1.0 / 64), NO_SHAPE + 1, 64));
        bias4 = param("bias4", init.zeros(NO_SHAPE + 1));
    }

    /**
     * Trains a classifier on images of {@code train} (the first {@value #TRAIN_IMAGES}, or all if fewer) and their
     * "no shape" counterparts, seeded: the same data and seed give the same network.
     */
    public static ShapeClassifier train(ShapeSource train, int nBits, long seed) {
        return train(train, nBits, seed, STEPS);
    }

    /** As above, with {@code steps} Adam steps of {@value #BATCH} images (tests use fewer). */
    static ShapeClassifier train(ShapeSource train, int nBits, long seed, int steps) {
        if (train.height() < 8) throw new IllegalArgumentException("the shape classifier needs images of at least 8 "
                + "pixels, got " + train.height());
        torch.manual_seed(seed);
        ShapeClassifier net = new ShapeClassifier(train.channels(), train.height(), nBits);
        int n = Math.min(TRAIN_IMAGES, train.size());
        List<byte[]> images = new ArrayList<>(2 * n);
        long[] labels = new long[2 * n];
        SplitMix64 rng = new SplitMix64(seed);
        for (int i = 0; i < n; i++) {
            images.add(train.image(i));
            labels[i] = ShapeSource.kindOf(train.label(i)).ordinal();
        }
        for (int i = 0; i < n; i++) {
            int j = rng.nextInt(n);
            images.add(rng.nextInt(2) == 0 && labels[i] != labels[j]
                    ? twoShapes(images.get(i), images.get(j), train.channels(), train.height(), rng)
                    : cloud(train.channels(), train.height(), rng));
            labels[n + i] = NO_SHAPE;
        }
        // Every image, shape or not, is recoloured (channels permuted, each scaled by 0.7-1.15), and every other one
        // gets pixel noise of up to +-16 levels: a teal disc and a disc seen through a flow's sampling noise are
        // still discs to a person, and neither colour nor noise may decide "no shape". (Noise of one quantisation
        // step, +-32 at 3 bits, was tried: real images fell to 95%, the demo's samples from 20% to 14%.)
        for (int i = 0; i < images.size(); i++) {
            byte[] im = recoloured(images.get(i), train.channels(), rng);
            images.set(i, rng.nextInt(2) == 0 ? noisy(im, 16, rng) : im);
        }
        Tensor x, y;
        try (NoGradGuard g = new NoGradGuard()) {
            x = Tensors.keep(net.prepare(images));
            y = Tensors.keep(Tensors.fromDoubles(toDoubles(labels), labels.length).to(torch.ScalarType.Long));
        }
        Adam adam = new Adam(net.namedParameters(), 0.9, 0.999, 1e-8, 0);
        int[] order = rng.permutation(labels.length);
        int at = 0;
        for (int step = 0; step < steps; step++) {
            try (PointerScope scope = new PointerScope()) {
                if (at + BATCH > order.length) {
                    order = rng.permutation(labels.length);
                    at = 0;
                }
                long[] pick = new long[BATCH];
                for (int k = 0; k < BATCH; k++) pick[k] = order[at++];
                Tensor idx = Tensors.fromDoubles(toDoubles(pick), BATCH).to(torch.ScalarType.Long);
                Tensor loss = torch.cross_entropy(net.logits(x.index_select(0, idx)), y.index_select(0, idx));
                adam.zeroGrad();
                loss.backward();
                adam.update(step < steps / 2 ? 3e-3 : 1e-3);
            }
        }
        Tensors.release(x);
        Tensors.release(y);
        net.train(false);
        return net;
    }

    /** The share of {@code images} (C x S x S bytes) whose shape kind the network names with probability >= CONFIDENCE. */
    public double confidentShare(List<byte[]> images) {
        if (images.isEmpty()) return Double.NaN;
        int confident = 0;
        for (int kind : confidentKinds(images)) if (kind >= 0) confident++;
        return confident / (double) images.size();
    }

    /**
     * For each image, the ordinal of the {@link ShapeSource.Kind} named with probability >= CONFIDENCE, or -1
     * (unsure, or no shape).
     */
    public int[] confidentKinds(List<byte[]> images) {
        float[] probs = probabilities(images);
        int k = NO_SHAPE + 1;
        int[] out = new int[images.size()];
        for (int i = 0; i < out.length; i++) {
            int best = 0;
            for (int c = 1; c < k; c++) if (probs[i * k + c] > probs[i * k + best]) best = c;
            out[i] = best != NO_SHAPE && probs[i * k + best] >= CONFIDENCE ? best : -1;
        }
        return out;
    }

    /** The softmax over the three kinds and "no shape" ({@code NO_SHAPE}), image after image. */
    float[] probabilities(List<byte[]> images) {
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            return Tensors.toFloats(torch.softmax(logits(prepare(images)), 1).contiguous());
        }
    }

    /** {@code count} images of uniformly random bytes of the given shape, seeded: the "noise" reference. */
    public static List<byte[]> noise(int count, int channels, int size, long seed) {
        SplitMix64 rng = new SplitMix64(seed);
        List<byte[]> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            byte[] im = new byte[channels * size * size];
            for (int k = 0; k < im.length; k++) im[k] = (byte) rng.nextInt(256);
            out.add(im);
        }
        return out;
    }

    private Tensor prepare(List<byte[]> images) {
        for (byte[] im : images) {
            if (im.length != channels * size * size) {
                throw new IllegalArgumentException("the shape classifier takes " + channels + "x" + size + "x" + size
                        + " images (" + channels * size * size + " bytes), got " + im.length + " bytes");
            }
        }
        return Quantization.centred(Quantization.stack(images, channels, size, size), nBits);
    }

    private Tensor logits(Tensor x) {
        Tensor h = torch.max_pool2d(torch.relu(Conv.same(x, conv1, bias1)), new long[] {2, 2});
        h = torch.max_pool2d(torch.relu(Conv.same(h, conv2, bias2)), new long[] {2, 2});
        h = torch.relu(Conv.same(h, conv3, bias3)).amax(new long[] {2, 3}, false);
        return torch.linear(h, linear, new org.bytedeco.pytorch.TensorOptional(bias4));
    }

    private static byte[] recoloured(byte[] image, int channels, SplitMix64 rng) {
        int n = image.length / channels;
        int[] order = rng.permutation(channels);
        byte[] out = new byte[image.length];
        for (int c = 0; c < channels; c++) {
            double gain = 0.7 + 0.45 * rng.nextDouble();
            for (int p = 0; p < n; p++) {
                out[c * n + p] = (byte) Math.min(255, Math.round((image[order[c] * n + p] & 255) * gain));
            }
        }
        return out;
    }

    private static byte[] noisy(byte[] image, int amplitude, SplitMix64 rng) {
        byte[] out = new byte[image.length];
        for (int k = 0; k < out.length; k++) {
            out[k] = (byte) Math.max(0, Math.min(255, (image[k] & 255) + rng.nextInt(2 * amplitude + 1) - amplitude));
        }
        return out;
    }

    /**
     * Two shapes of different kinds in one picture: {@code b}'s shape moved by 35-50% of the side in a random
     * direction and laid over {@code a} wherever it differs more from the (plain) background than {@code a} does.
     */
    static byte[] twoShapes(byte[] a, byte[] b, int channels, int size, SplitMix64 rng) {
        int n = size * size;
        double angle = 2 * Math.PI * rng.nextDouble(), shift = size * (0.35 + 0.15 * rng.nextDouble());
        int dx = (int) Math.round(shift * Math.cos(angle)), dy = (int) Math.round(shift * Math.sin(angle));
        byte[] out = a.clone();
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                int sx = x - dx, sy = y - dy;
                if (sx < 0 || sy < 0 || sx >= size || sy >= size) continue;
                int da = 0, db = 0;
                for (int c = 0; c < channels; c++) {
                    da += Math.abs((a[c * n + y * size + x] & 255) - (a[c * n] & 255));
                    db += Math.abs((b[c * n + sy * size + sx] & 255) - (b[c * n] & 255));
                }
                if (db > da) for (int c = 0; c < channels; c++) out[c * n + y * size + x] = b[c * n + sy * size + sx];
            }
        }
        return out;
    }

    /**
     * A smooth cloud of colour: a random 4x4 grid of colours (each channel uniform in 0..255), interpolated bilinearly
     * up to the image size. Not uniform noise: that stays out of training, as the classifier's check.
     */
    static byte[] cloud(int channels, int size, SplitMix64 rng) {
        double[] grid = new double[channels * 16];
        for (int k = 0; k < grid.length; k++) grid[k] = rng.nextDouble() * 255;
        byte[] out = new byte[channels * size * size];
        for (int c = 0; c < channels; c++) {
            for (int y = 0; y < size; y++) {
                double gy = (y + 0.5) * 3 / size;
                int y0 = Math.min(2, (int) gy);
                double fy = gy - y0;
                for (int x = 0; x < size; x++) {
                    double gx = (x + 0.5) * 3 / size;
                    int x0 = Math.min(2, (int) gx);
                    double fx = gx - x0;
                    int g = c * 16 + y0 * 4 + x0;
                    double v = (1 - fy) * ((1 - fx) * grid[g] + fx * grid[g + 1])
                            + fy * ((1 - fx) * grid[g + 4] + fx * grid[g + 5]);
                    out[(c * size + y) * size + x] = (byte) Math.round(v);
                }
            }
        }
        return out;
    }

    private static double[] toDoubles(long[] v) {
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) out[i] = v[i];
        return out;
    }
}
