package woodflow.serve;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import woodflow.core.Precision;
import woodflow.data.ArraySource;
import woodflow.data.DataSets;
import woodflow.data.ImageDecoder;
import woodflow.picture.ImageGrid;
import woodflow.data.ImageSource;
import woodflow.data.Quantization;
import woodflow.data.Splits;
import woodflow.model.ModelConfig;
import woodflow.model.MultiScaleFlow;
import woodflow.nn.Bf16Kernels;
import woodflow.model.Temperature;
import woodflow.sample.ClassChoice;
import woodflow.sample.Interpolation;
import woodflow.sample.Sampler;
import woodflow.train.Checkpoint;
import woodflow.train.Evaluator;
import woodflow.train.RunConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The dashboard's model work — sampling, reconstructions, test-set bpd, scoring an image — on one worker thread with a
 * short queue: a request that finds the queue full is refused ("busy") instead of piling up, and libtorch is only
 * ever used from that one thread. Models are loaded from checkpoints once and kept, least recently used first out,
 * while their parameters fit in {@code cacheBytes}; a checkpoint rewritten on disk (best.safetensors improves) is a new
 * entry. The test set's per-image bpd is computed once per checkpoint (at most {@link #TEST_IMAGES} images).
 */
final class ModelWorker implements AutoCloseable {
    static final int MAX_SAMPLES = 64;
    static final int TEST_IMAGES = 1000;
    static final int RECONSTRUCTIONS = 8;
    /** The largest image accepted for scoring, in pixels (width x height), checked before it is decoded. */
    static final long MAX_PIXELS = 25_000_000L;

    /** The queue was full. */
    static final class Busy extends RuntimeException {
        Busy(String message) {
            super(message);
        }
    }

    private record Key(Path file, long modified, long size) {}

    private record Loaded(RunConfig config, MultiScaleFlow model, long bytes) {}

    private final ThreadPoolExecutor executor;
    private final long cacheBytes;
    private final int queue;
    // touched only on the worker thread
    private final LinkedHashMap<Key, Loaded> models = new LinkedHashMap<>(16, 0.75f, true);
    private final LinkedHashMap<Key, double[]> testBpd = new LinkedHashMap<>(16, 0.75f, true);

    ModelWorker(long cacheBytes, int queue) {
        this.cacheBytes = cacheBytes;
        this.queue = queue;
        this.executor = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(queue), r -> {
            Thread t = new Thread(r, "woodflow-serve-model");
            t.setDaemon(true);
            return t;
        }, new ThreadPoolExecutor.AbortPolicy());
    }

    /**
     * The precision the sampler uses when a request names none: bf16-mixed where this CPU runs the engine's native
     * bf16 kernels (AVX512_BF16 or AMX: several times faster), fp32 where bf16 would be emulated (no faster than fp32).
     */
    static Precision defaultPrecision() {
        return Bf16Kernels.current() == Bf16Kernels.NATIVE ? Precision.BF16_MIXED : Precision.FP32;
    }

    /** A sample grid as PNG bytes, in the checkpoint's model's default sampling precision here. */
    byte[] samples(Path checkpoint, double temperature, long seed, int count) throws Exception {
        return samples(checkpoint, temperature, seed, count, null, defaultPrecision());
    }

    /** A sample grid as PNG bytes of class {@code className} (or a class per row), in the default precision here. */
    byte[] samples(Path checkpoint, double temperature, long seed, int count, String className) throws Exception {
        return samples(checkpoint, temperature, seed, count, className, defaultPrecision());
    }

    /** A sample grid as PNG bytes, the conditioner networks in {@code precision}. */
    byte[] samples(Path checkpoint, double temperature, long seed, int count, Precision precision) throws Exception {
        return samples(checkpoint, temperature, seed, count, null, precision);
    }

    /**
     * A sample grid as PNG bytes; a class-conditional model draws {@code className} (by name), or without it a class
     * per row of 8, in turn. The conditioner networks run in {@code precision} (the invertible path stays float32;
     * Bf16SamplingTest bounds how far bf16's samples are from fp32's).
     */
    byte[] samples(Path checkpoint, double temperature, long seed, int count, String className, Precision precision)
            throws Exception {
        Temperature.COMMAND_LINE.check(temperature); // the temperatures `woodflow sample` takes, T = 0 refused
        if (count < 1 || count > MAX_SAMPLES) {
            throw new IllegalArgumentException("count must be between 1 and " + MAX_SAMPLES + ", got " + count);
        }
        return run(() -> {
            Loaded m = load(checkpoint);
            ModelConfig mc = m.config.model();
            List<String> classes = m.model.classes();
            int[] labels = null;
            if (className != null && !className.isBlank()) {
                labels = Sampler.fill(count, ClassChoice.resolve(classes, className, checkpoint.getFileName()
                        .toString(), "class"));
            } else if (!classes.isEmpty()) {
                labels = ClassChoice.byRow(count, Math.min(8, count), classes.size());
            }
            try (PointerScope scope = new PointerScope()) {
                m.model.precision(precision); // the model is shared between requests; each sets its own
                Tensor s = Sampler.sample(m.model, count, temperature, m.config.data().nBits(), seed, labels);
                return ImageGrid.pngBytes(ImageGrid.renderForViewing(ImageGrid.images(s), mc.channels(), mc.height(),
                        mc.width(), Math.min(8, count)));
            }
        });
    }

    /** Test images (top row) and decode(encode(x)) (bottom row), as PNG bytes. */
    byte[] reconstructions(Path checkpoint) throws Exception {
        return run(() -> {
            Loaded m = load(checkpoint);
            ModelConfig mc = m.config.model();
            List<byte[]> images = new ArrayList<>();
            try (Splits data = DataSets.open(m.config.data(), mc.channels(), mc.height())) {
                for (int i = 0; i < Math.min(RECONSTRUCTIONS, data.test().size()); i++) images.add(data.test().image(i));
            }
            try (PointerScope scope = new PointerScope()) {
                Tensor batch = Quantization.stack(images, mc.channels(), mc.height(), mc.width());
                List<byte[]> pairs = Sampler.reconstructions(m.model, batch, m.config.data().nBits());
                return ImageGrid.pngBytes(ImageGrid.renderForViewing(pairs, mc.channels(), mc.height(), mc.width(),
                        images.size()));
            }
        });
    }

    /** Per-image bpd of the run's test set under a checkpoint (the first {@link #TEST_IMAGES}), computed once. */
    double[] testBitsPerDim(Path checkpoint) throws Exception {
        return run(() -> testBpdOnWorker(checkpoint));
    }

    /**
     * What scoring an uploaded image gives: its bpd, the image as the model sees it, and the test set's bpd; for a
     * class-conditional model, the bpd of p(x) averaged over the classes and the class under which the image is
     * likeliest (else null).
     */
    record Score(double bpd, byte[] resizedPng, double[] testBpd, String likeliestClass) {}

    Score score(Path checkpoint, byte[] imageBytes) throws Exception {
        checkSize(imageBytes);
        return run(() -> {
            Loaded m = load(checkpoint);
            ModelConfig mc = m.config.model();
            // resized as a folder of images is (centre crop, area resampling), to the model's size
            byte[] chw = ImageDecoder.toChw(imageBytes, "the uploaded image", mc.channels(), mc.height());
            ArraySource one = new ArraySource(List.of(chw), mc.channels(), mc.height(), mc.width(), "upload");
            double bpd;
            String likeliest = null;
            if (m.model.classConditional()) {
                double[] byClass = Evaluator.bitsPerDimByClass(m.model, one, 1, m.config.data().nBits(), 1,
                        m.config.train().evalSeed())[0];
                bpd = Evaluator.marginalBitsPerDim(byClass, mc.dimensions());
                int best = 0;
                for (int k = 1; k < byClass.length; k++) if (byClass[k] < byClass[best]) best = k;
                likeliest = m.model.classes().get(best);
            } else {
                bpd = Evaluator.bitsPerDim(m.model, one, 1, m.config.data().nBits(), 1,
                        m.config.train().evalSeed())[0];
            }
            byte[] png = ImageGrid.pngBytes(ImageGrid.renderForViewing(List.of(chw), mc.channels(), mc.height(),
                    mc.width(), 1));
            return new Score(bpd, png, testBpdOnWorker(checkpoint), likeliest);
        });
    }

    /**
     * The latent interpolation between test images {@code a} and {@code b} of the run's data ({@link Interpolation}),
     * as a labelled PNG strip; a class-conditional model takes the images' own classes.
     */
    byte[] interpolation(Path checkpoint, int a, int b, int steps, Interpolation.Mode mode) throws Exception {
        if (steps < Interpolation.MIN_STEPS || steps > Interpolation.MAX_STEPS) {
            throw new IllegalArgumentException("steps must be between " + Interpolation.MIN_STEPS + " and "
                    + Interpolation.MAX_STEPS + ", got " + steps);
        }
        return run(() -> {
            Loaded m = load(checkpoint);
            ModelConfig mc = m.config.model();
            byte[] ia, ib;
            Integer la = null, lb = null;
            try (Splits data = DataSets.open(m.config.data(), mc.channels(), mc.height())) {
                ImageSource test = data.test();
                for (int i : new int[] {a, b}) {
                    if (i < 0 || i >= test.size()) {
                        throw new IllegalArgumentException("test image " + i + " does not exist: the test set has "
                                + test.size() + " images (0 to " + (test.size() - 1) + ")");
                    }
                }
                ia = test.image(a);
                ib = test.image(b);
                if (m.model.classConditional()) {
                    var labels = woodflow.data.ClassLabels.require(test, m.model.classes());
                    la = labels.label(a);
                    lb = labels.label(b);
                }
            }
            try (PointerScope scope = new PointerScope()) {
                Interpolation.Strip strip = Interpolation.between(m.model, ia, ib, steps, mode,
                        m.config.data().nBits(), la, lb);
                String title = "test image " + a + (la != null ? " (" + m.model.classes().get(la) + ")" : "")
                        + " to test image " + b + (lb != null ? " (" + m.model.classes().get(lb) + ")" : "");
                return strip.png(mc.channels(), mc.height(), mc.width(), title);
            }
        });
    }

    /** Refuses an image whose header announces more than {@link #MAX_PIXELS}, before decoding allocates it. */
    private static void checkSize(byte[] bytes) {
        try (var in = javax.imageio.ImageIO.createImageInputStream(new java.io.ByteArrayInputStream(bytes))) {
            Iterator<javax.imageio.ImageReader> readers = in == null ? null : javax.imageio.ImageIO.getImageReaders(in);
            if (readers == null || !readers.hasNext()) {
                throw new IllegalArgumentException("not a readable image (" + bytes.length + " bytes; PNG, JPEG and "
                        + "WebP are supported)");
            }
            javax.imageio.ImageReader r = readers.next();
            try {
                r.setInput(in, true, true);
                long pixels = (long) r.getWidth(0) * r.getHeight(0);
                if (pixels > MAX_PIXELS) {
                    throw new IllegalArgumentException("the image is " + r.getWidth(0) + "x" + r.getHeight(0)
                            + " pixels; at most " + MAX_PIXELS / 1_000_000 + " megapixels are accepted");
                }
            } finally {
                r.dispose();
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof IllegalArgumentException i) throw i;
            throw new IllegalArgumentException("not a readable image (" + e.getMessage() + ")");
        }
    }

    private double[] testBpdOnWorker(Path checkpoint) throws IOException {
        Key k = key(checkpoint);
        double[] cached = testBpd.get(k);
        if (cached != null) return cached;
        Loaded m = load(checkpoint);
        ModelConfig mc = m.config.model();
        double[] bpd;
        try (Splits data = DataSets.open(m.config.data(), mc.channels(), mc.height())) {
            ImageSource test = data.test();
            bpd = Evaluator.bitsPerDim(m.model, test, Math.min(TEST_IMAGES, test.size()), m.config.data().nBits(),
                    m.config.train().evalBatch(), m.config.train().evalSeed());
        }
        testBpd.put(k, bpd);
        while (testBpd.size() > 32) testBpd.remove(testBpd.keySet().iterator().next());
        return bpd;
    }

    /** The checkpoint's model, from the cache or read now; evicts the least recently used beyond the bound. */
    private Loaded load(Path checkpoint) throws IOException {
        Key k = key(checkpoint);
        Loaded m = models.get(k);
        if (m != null) return m;
        Checkpoint c = Checkpoint.read(checkpoint);
        MultiScaleFlow model = c.model();
        model.train(false);
        m = new Loaded(c.config(), model, model.parameterCount() * 4L);
        models.put(k, m);
        long total = 0;
        for (Loaded l : models.values()) total += l.bytes;
        for (Iterator<Map.Entry<Key, Loaded>> it = models.entrySet().iterator(); it.hasNext() && total > cacheBytes
                && models.size() > 1; ) {
            Map.Entry<Key, Loaded> e = it.next();
            if (e.getKey().equals(k)) continue;
            total -= e.getValue().bytes;
            it.remove(); // its tensors are freed when the collector finalises them
        }
        return m;
    }

    private static Key key(Path p) throws IOException {
        if (!Files.isRegularFile(p)) throw new IOException("checkpoint " + p.getFileName() + " no longer exists");
        return new Key(p, Files.getLastModifiedTime(p).toMillis(), Files.size(p));
    }

    /** Requests waiting behind the one running. */
    int waiting() {
        return executor.getQueue().size();
    }

    /** Number of models held (for tests). */
    int cachedModels() throws Exception {
        return run(models::size);
    }

    /** Test hook: while set, every job waits for this latch before it starts (so a test can fill the queue). */
    private volatile java.util.concurrent.CountDownLatch hold;

    void holdJobs(java.util.concurrent.CountDownLatch latch) {
        hold = latch;
    }

    /** Runs a job on the worker, waiting for it; throws {@link Busy} at once when the queue is full. */
    <T> T run(Callable<T> job) throws Exception {
        Future<T> f;
        java.util.concurrent.CountDownLatch h = hold;
        try {
            f = executor.submit(h == null ? job : () -> {
                h.await(2, TimeUnit.MINUTES);
                return job.call();
            });
        } catch (RejectedExecutionException e) {
            throw new Busy("the model worker is busy (" + queue + " requests waiting); try again in a moment");
        }
        try {
            return f.get(10, TimeUnit.MINUTES);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof Exception ex) throw ex;
            throw new IllegalStateException(woodflow.core.Reasons.of(c));
        } catch (TimeoutException e) {
            f.cancel(true);
            throw new Busy("the model worker took too long");
        }
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
