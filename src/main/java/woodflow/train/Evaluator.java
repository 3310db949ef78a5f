package woodflow.train;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import woodflow.core.Devices;
import woodflow.core.Precision;
import woodflow.core.Tensors;
import woodflow.data.ClassLabels;
import woodflow.data.DataSplit;
import woodflow.data.ImageSource;
import woodflow.data.Quantization;
import woodflow.data.Splits;
import woodflow.model.MultiScaleFlow;

import java.util.ArrayList;
import java.util.List;

/**
 * Test-set bits per dimension: every image of a source (or the first {@code limit}), dequantised with noise from a
 * fixed seed so that every evaluation of every model sees the same noise. A class-conditional model is evaluated
 * conditional on each image's true class ({@code -log2 p(x | y)} per dimension), from the source's labels.
 */
public final class Evaluator {
    private Evaluator() {}

    /** Per-image bpd of images {@code [0, count)} of {@code source}. */
    public static double[] bitsPerDim(MultiScaleFlow model, ImageSource source, int count, int nBits, int batch,
                                      long noiseSeed) {
        return bitsPerDim(model, source, count, nBits, batch, noiseSeed, 0, 1);
    }

    /**
     * This shard's part of {@link #bitsPerDim}: batch k of the evaluation belongs to shard {@code k mod shards}, and
     * the other shards' entries stay NaN. Every shard draws the noise of every batch (cheap next to the model), so
     * each image gets the noise it gets in a one-process evaluation.
     */
    public static double[] bitsPerDim(MultiScaleFlow model, ImageSource source, int count, int nBits, int batch,
                                      long noiseSeed, int shard, int shards) {
        boolean wasTraining = model.isTraining();
        // a class-conditional model scores each image given its true class: log p(x | y)
        ClassLabels labels = model.classConditional() ? ClassLabels.require(source, model.classes()) : null;
        model.train(false);
        int n = Math.min(count, source.size());
        double[] out = new double[n];
        java.util.Arrays.fill(out, Double.NaN);
        torch.manual_seed(noiseSeed);
        try (NoGradGuard g = new NoGradGuard()) {
            for (int start = 0, k = 0; start < n; start += batch, k++) {
                try (PointerScope scope = new PointerScope()) {
                    int end = Math.min(n, start + batch);
                    if (k % shards != shard) {
                        torch.rand(new long[] {end - start, source.channels(), source.height(), source.width()},
                                Tensors.optionsLike(model.parameters().get(0)));
                        continue;
                    }
                    List<byte[]> imgs = new ArrayList<>();
                    for (int i = start; i < end; i++) imgs.add(source.image(i));
                    Tensor x = Quantization.dequantize(Devices.like(
                            Quantization.stack(imgs, source.channels(), source.height(), source.width()),
                            model.parameters().get(0)), nBits);
                    double[] b;
                    if (labels == null) {
                        b = Tensors.toDoubles(bitsPerDim(model, x, Quantization.bins(nBits)));
                    } else {
                        int[] y = new int[end - start];
                        for (int i = start; i < end; i++) y[i - start] = labels.label(i);
                        try (var c = model.conditionedOn(y)) {
                            b = Tensors.toDoubles(model.bitsPerDim(x, Quantization.bins(nBits)));
                        }
                    }
                    System.arraycopy(b, 0, out, start, b.length);
                }
            }
        } finally {
            model.train(wasTraining);
        }
        return out;
    }

    /**
     * Per-image bpd of a dequantised batch, without graph: as two halves on two threads where the process has them
     * ({@link woodflow.core.Halves}; each image is scored on its own, so only the kernels' summation order can differ
     * from one batch).
     */
    static Tensor bitsPerDim(MultiScaleFlow model, Tensor x, int bins) {
        // a class-conditional model holds one set of labels for the whole batch: it scores on this thread
        woodflow.core.Halves halves = x.size(0) >= 2 && !model.classConditional()
                ? woodflow.core.Halves.forThisProcess() : null;
        if (halves == null) return model.bitsPerDim(x, bins);
        long first = x.size(0) / 2;
        Tensor a = x.narrow(0, 0, first), b = x.narrow(0, first, x.size(0) - first);
        Tensor[] parts = halves.tensors(() -> noGrad(() -> model.bitsPerDim(a, bins)),
                () -> noGrad(() -> model.bitsPerDim(b, bins)));
        return Tensors.cat(0, parts[0], parts[1]);
    }

    private static Tensor noGrad(java.util.function.Supplier<Tensor> work) {
        try (NoGradGuard g = new NoGradGuard()) { // grad mode is per thread
            return work.get();
        }
    }

    /**
     * For a class-conditional model: the bpd of images {@code [0, count)} of {@code source} given each class,
     * {@code [image][class]}, every class seeing the same dequantisation noise (the source needs no labels).
     */
    public static double[][] bitsPerDimByClass(MultiScaleFlow model, ImageSource source, int count, int nBits,
                                               int batch, long noiseSeed) {
        int k = model.classes().size();
        if (k == 0) throw new IllegalArgumentException("the model is not class-conditional: it has no classes");
        boolean wasTraining = model.isTraining();
        model.train(false);
        int n = Math.min(count, source.size());
        double[][] out = new double[n][k];
        torch.manual_seed(noiseSeed);
        try (NoGradGuard g = new NoGradGuard()) {
            for (int start = 0; start < n; start += batch) {
                try (PointerScope scope = new PointerScope()) {
                    int end = Math.min(n, start + batch);
                    List<byte[]> imgs = new ArrayList<>();
                    for (int i = start; i < end; i++) imgs.add(source.image(i));
                    Tensor x = Quantization.dequantize(Devices.like(
                            Quantization.stack(imgs, source.channels(), source.height(), source.width()),
                            model.parameters().get(0)), nBits);
                    for (int c = 0; c < k; c++) {
                        int[] y = new int[end - start];
                        java.util.Arrays.fill(y, c);
                        try (var cond = model.conditionedOn(y)) {
                            double[] b = Tensors.toDoubles(model.bitsPerDim(x, Quantization.bins(nBits)));
                            for (int i = 0; i < b.length; i++) out[start + i][c] = b[i];
                        }
                    }
                }
            }
        } finally {
            model.train(wasTraining);
        }
        return out;
    }

    /**
     * The bits per dimension of the marginal {@code p(x) = (1/K) sum_k p(x | k)} (a uniform prior over the K classes)
     * from the per-class figures of one image of {@code dims} dimensions: {@code -log2(mean_k 2^(-D bpd_k)) / D},
     * summed in log space.
     */
    public static double marginalBitsPerDim(double[] byClass, long dims) {
        double max = Double.NEGATIVE_INFINITY;
        for (double b : byClass) max = Math.max(max, -b * dims);
        double sum = 0;
        for (double b : byClass) sum += Math.pow(2, -b * dims - max);
        return -(max + Math.log(sum / byClass.length) / Math.log(2)) / dims;
    }

    /** What {@link #ofCheckpoint} measured: the mean bpd, over how many images, in how long, of which data. */
    public record Report(double bpd, int images, double seconds, String data) {}

    /**
     * The mean bpd of a checkpoint's model, in {@code precision} on {@code device}, over the first {@code limit}
     * images (null: all) of one split of its run's data (its path replaced by {@code dataPath} when given), with the
     * noise of {@code noiseSeed} (null: the run's eval seed): {@code woodflow eval}.
     */
    public static Report ofCheckpoint(Checkpoint c, DataSplit split, Integer limit, int batch, String dataPath,
                                      Long noiseSeed, Precision precision, String device) {
        return ofCheckpoint(c, split, limit, batch, dataPath, noiseSeed, precision, device, null);
    }

    /** As above with the chosen weights ({@code --weights}; null: the averaged ones when the checkpoint holds them). */
    public static Report ofCheckpoint(Checkpoint c, DataSplit split, Integer limit, int batch, String dataPath,
                                      Long noiseSeed, Precision precision, String device, Weights weights) {
        MultiScaleFlow model = c.model(device, weights);
        model.precision(precision);
        RunConfig cfg = c.config();
        cfg = cfg.withData(cfg.data().withDataPath(dataPath));
        try (Splits data = cfg.openData()) {
            ImageSource src = split.of(data);
            int n = limit == null ? src.size() : Math.min(limit, src.size());
            long t0 = System.nanoTime();
            double bpd = meanBitsPerDim(model, src, n, cfg.data().nBits(), batch,
                    noiseSeed != null ? noiseSeed : cfg.train().evalSeed());
            return new Report(bpd, n, (System.nanoTime() - t0) / 1e9, src.describe());
        }
    }

    public static double meanBitsPerDim(MultiScaleFlow model, ImageSource source, int count, int nBits, int batch,
                                        long noiseSeed) {
        double[] b = bitsPerDim(model, source, count, nBits, batch, noiseSeed);
        double s = 0;
        for (double v : b) s += v;
        return s / b.length;
    }
}
