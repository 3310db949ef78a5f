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
import woodflow.model.Dequantizer;
import woodflow.model.MultiScaleFlow;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Test-set bits per dimension: every image of a source (or the first {@code limit}), dequantised by the model's
 * dequantiser (uniform or variational) with noise from a fixed seed, so that every evaluation of every model sees the
 * same noise (one dequantisation per image; {@link ImportanceWeightedBound} takes K). A class-conditional model is evaluated
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
        return bitsPerDim(model, source, count, nBits, batch, noiseSeed, shard, shards, null);
    }

    /** {@link #bitsPerDim}, telling {@code probe} (may be null) every dequantised batch before its forward. */
    static double[] bitsPerDim(MultiScaleFlow model, ImageSource source, int count, int nBits, int batch,
                               long noiseSeed, int shard, int shards, Consumer<Tensor> probe) {
        boolean wasTraining = model.isTraining();
        Dequantizer dequantizer = model.dequantizer();
        int bins = Quantization.bins(nBits);
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
                    long[] shape = {end - start, source.channels(), source.height(), source.width()};
                    if (k % shards != shard) {
                        dequantizer.drawNoise(shape, model.parameters().get(0));
                        continue;
                    }
                    List<byte[]> imgs = new ArrayList<>();
                    for (int i = start; i < end; i++) imgs.add(source.image(i));
                    Tensor centred = Quantization.centred(Devices.like(
                            Quantization.stack(imgs, source.channels(), source.height(), source.width()),
                            model.parameters().get(0)), nBits);
                    Dequantizer.Dequantized x = dequantizer.dequantize(centred, dequantizer.drawNoise(shape, centred),
                            bins);
                    if (probe != null) probe.accept(x.x());
                    double[] b;
                    if (labels == null) {
                        b = Tensors.toDoubles(bitsPerDim(model, x, bins));
                    } else {
                        int[] y = new int[end - start];
                        for (int i = start; i < end; i++) y[i - start] = labels.label(i);
                        try (var c = model.conditionedOn(y)) {
                            b = Tensors.toDoubles(model.bitsPerDim(x, bins));
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
    static Tensor bitsPerDim(MultiScaleFlow model, Dequantizer.Dequantized x, int bins) {
        // a class-conditional model holds one set of labels for the whole batch: it scores on this thread
        long rows = x.x().size(0);
        woodflow.core.Halves halves = rows >= woodflow.core.Halves.MIN_ROWS && !model.classConditional()
                ? woodflow.core.Halves.forThisProcess() : null;
        if (halves == null) return model.bitsPerDim(x, bins);
        long first = woodflow.core.Halves.firstRows(rows);
        Dequantizer.Dequantized a = rows(x, 0, first), b = rows(x, first, rows - first);
        Tensor[] parts = halves.tensors(() -> noGrad(() -> model.bitsPerDim(a, bins)),
                () -> noGrad(() -> model.bitsPerDim(b, bins)));
        return Tensors.cat(0, parts[0], parts[1]);
    }

    private static Dequantizer.Dequantized rows(Dequantizer.Dequantized x, long from, long count) {
        return new Dequantizer.Dequantized(x.x().narrow(0, from, count),
                x.logQ() == null ? null : x.logQ().narrow(0, from, count));
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
                    Tensor centred = Quantization.centred(Devices.like(
                            Quantization.stack(imgs, source.channels(), source.height(), source.width()),
                            model.parameters().get(0)), nBits);
                    // one dequantisation per image, the same for every class (a dequantiser sees x, not y)
                    Dequantizer dq = model.dequantizer();
                    Dequantizer.Dequantized x = dq.dequantize(centred, dq.drawNoise(Tensors.shape(centred), centred),
                            Quantization.bins(nBits));
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

    /**
     * What {@link #ofCheckpoint} measured: the mean one-sample bpd, over how many images, in how long, of which data;
     * the K-sample figures ({@link ImportanceWeightedBound.Result}: K = 1 gives the one-sample figure three times), the
     * model's dequantisation and the noise seed used.
     */
    public record Report(double bpd, int images, double seconds, String data, ImportanceWeightedBound.Result samples,
                         String dequantization, long noiseSeed) {}

    /**
     * The mean bpd of a checkpoint's model, in {@code precision} on {@code device}, over the first {@code limit}
     * images (null: all) of one split of its run's data (its path replaced by {@code dataPath} when given), with the
     * noise of {@code noiseSeed} (null: the run's eval seed): {@code woodflow eval}.
     */
    public static Report ofCheckpoint(Checkpoint c, DataSplit split, Integer limit, int batch, String dataPath,
                                      Long noiseSeed, Precision precision, String device) {
        return ofCheckpoint(c, split, limit, batch, dataPath, noiseSeed, precision, device, null, 1, null);
    }

    /**
     * As above with the chosen weights ({@code --weights}; null: the averaged ones when the checkpoint holds them)
     * and {@code samples} dequantisations per image, the importance-weighted bound beside the one-sample figure
     * ({@code progress}, may be null, is told after each draw).
     */
    public static Report ofCheckpoint(Checkpoint c, DataSplit split, Integer limit, int batch, String dataPath,
                                      Long noiseSeed, Precision precision, String device, Weights weights,
                                      int samples, ImportanceWeightedBound.Progress progress) {
        MultiScaleFlow model = c.model(device, weights);
        model.precision(precision);
        RunConfig cfg = c.config();
        cfg = cfg.withData(cfg.data().withDataPath(dataPath));
        long seed = noiseSeed != null ? noiseSeed : cfg.train().evalSeed();
        try (Splits data = cfg.openData()) {
            ImageSource src = split.of(data);
            int n = limit == null ? src.size() : Math.min(limit, src.size());
            long t0 = System.nanoTime();
            ImportanceWeightedBound.Result r = ImportanceWeightedBound.evaluate(model, src, n, cfg.data().nBits(),
                    batch, seed, samples, progress);
            return new Report(r.oneSampleBpd(), n, (System.nanoTime() - t0) / 1e9, src.describe(), r,
                    model.dequantizer().toString(), seed);
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
