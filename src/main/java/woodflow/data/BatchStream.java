package woodflow.data;

import org.bytedeco.pytorch.Tensor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Batches of images from a source, decoded ahead on background threads, in a seeded order that a resumed run can
 * continue exactly.
 *
 * <p>Order. The training stream is the endless concatenation of epoch permutations: image position {@code p} is
 * {@code perm_e[p mod n]} with {@code e = p div n}, where {@code perm_e} is a Fisher-Yates permutation drawn from
 * {@link SplitMix64} stream {@code (seed, e)}; batch {@code k} holds positions {@code [k B, (k+1) B)}, so every batch
 * is full and a batch may straddle two epochs. The order depends only on (seed, n, B), so a stream built with
 * {@code startBatch = k} delivers exactly the batches a stream from 0 delivers after k of them. The ordered stream
 * (evaluation) is one pass in index order, its last batch shorter.
 *
 * <p>Decoding. With {@code workers > 0}, worker {@code w} decodes batches {@code start + w, start + w + W, ...} into
 * its own bounded queue of {@code ceil(prefetch / W)} batches, and {@link #next} takes batch k from queue
 * {@code (k - start) mod W}: batches are delivered in order without a re-ordering buffer, and at most
 * {@code prefetch + W} batches are held in memory whatever the size of the data set. With {@code workers = 0},
 * {@link #next} decodes on the calling thread.
 */
public final class BatchStream implements AutoCloseable {
    /**
     * One batch.
     *
     * @param index    batch number in the stream (the resume position after it is {@code index + 1})
     * @param epoch    epoch of the batch's first image
     * @param indices  source index of each image
     * @param images   the images, CHW bytes each
     * @param labels   each image's class label, when the source has labels ({@link ImageSource#labels()}), else null
     */
    public record Batch(long index, long epoch, int[] indices, List<byte[]> images, int[] labels, int channels,
                        int height, int width) {
        /** The batch as a (B, C, H, W) uint8 tensor. */
        public Tensor tensor() {
            return Quantization.stack(images, channels, height, width);
        }

        public int size() {
            return images.size();
        }
    }

    private static final Object END = new Object();

    private record Failure(Throwable error) {}

    private final ImageSource source;
    /** The source's labels, when it has them and they were asked for; delivered with each batch. */
    private final ClassLabels labels;
    private final int batchSize;
    private final long seed;
    private final boolean shuffle;
    private final long batches; // Long.MAX_VALUE for the endless training stream
    private final Map<Long, int[]> permutations = new LinkedHashMap<>(4, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, int[]> eldest) {
            return size() > 3;
        }
    };
    private final List<BlockingQueue<Object>> queues = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private final long start;
    private long next;
    private volatile boolean closed;

    private BatchStream(ImageSource source, int batchSize, long seed, boolean shuffle, long startBatch, int workers,
                        int prefetch, boolean withLabels) {
        if (batchSize <= 0) throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
        if (startBatch < 0) throw new IllegalArgumentException("start batch must not be negative, got " + startBatch);
        if (workers < 0) throw new IllegalArgumentException("workers must not be negative, got " + workers);
        if (source.size() == 0) {
            throw new DataException(source.describe() + ": cannot stream batches from an empty data set");
        }
        this.source = source;
        this.labels = withLabels ? source.labels().orElseThrow(() -> new DataException(source.describe()
                + ": this data set has no class labels")) : null;
        this.batchSize = batchSize;
        this.seed = seed;
        this.shuffle = shuffle;
        this.batches = shuffle ? Long.MAX_VALUE : (source.size() + batchSize - 1) / batchSize;
        this.start = startBatch;
        this.next = startBatch;
        int depth = Math.max(1, (Math.max(1, prefetch) + workers - 1) / Math.max(1, workers));
        for (int w = 0; w < workers; w++) {
            BlockingQueue<Object> q = new ArrayBlockingQueue<>(depth);
            queues.add(q);
            int first = w;
            Thread t = new Thread(() -> produce(q, startBatch + first, workers), "woodflow-data-" + w);
            t.setDaemon(true);
            threads.add(t);
        }
        threads.forEach(Thread::start);
    }

    /**
     * The endless seeded training stream from batch {@code startBatch} (0 for a new run, the saved position to
     * resume), decoded by {@code workers} threads (2 on a 2-core machine) with about {@code prefetch} batches ahead.
     */
    public static BatchStream shuffled(ImageSource source, int batchSize, long seed, long startBatch, int workers,
                                       int prefetch) {
        return shuffled(source, batchSize, seed, startBatch, workers, prefetch, false);
    }

    /**
     * As above; with {@code withLabels} each batch also carries its images' class labels (decoded beside them on the
     * workers), and a source without labels is an error naming it.
     */
    public static BatchStream shuffled(ImageSource source, int batchSize, long seed, long startBatch, int workers,
                                       int prefetch, boolean withLabels) {
        return new BatchStream(source, batchSize, seed, true, startBatch, workers, prefetch, withLabels);
    }

    /** One pass over {@code source} in index order (test-set evaluation); the last batch may be shorter. */
    public static BatchStream ordered(ImageSource source, int batchSize, int workers) {
        return new BatchStream(source, batchSize, 0, false, 0, workers, 2 * Math.max(1, workers), false);
    }

    private void produce(BlockingQueue<Object> q, long firstBatch, int stride) {
        try {
            for (long k = firstBatch; k < batches && !closed; k += stride) {
                Object item;
                try {
                    item = decode(k);
                } catch (RuntimeException | Error e) {
                    item = new Failure(e); // handed to the consumer, so a failed decode never leaves next() waiting
                }
                q.put(item);
                if (item instanceof Failure) return;
            }
            q.put(END);
        } catch (InterruptedException e) {
            // closed: the consumer no longer reads
        }
    }

    /** Source index at stream position {@code p}. */
    public int indexAt(long p) {
        int n = source.size();
        if (!shuffle) return (int) p;
        return permutation(p / n)[(int) (p % n)];
    }

    private int[] permutation(long epoch) {
        synchronized (permutations) {
            return permutations.computeIfAbsent(epoch, e -> SplitMix64.of(seed, e).permutation(source.size()));
        }
    }

    private Batch decode(long k) {
        long from = k * batchSize;
        int count = shuffle ? batchSize : (int) Math.min(batchSize, source.size() - from);
        int[] idx = new int[count];
        List<byte[]> images = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            idx[i] = indexAt(from + i);
            images.add(source.image(idx[i]));
        }
        return new Batch(k, from / source.size(), idx, images, labels == null ? null : labels.labels(idx),
                source.channels(), source.height(), source.width());
    }

    public boolean hasNext() {
        return next < batches;
    }

    /** The next batch, waiting for the workers if they are behind. */
    public Batch next() {
        if (closed) throw new IllegalStateException("batch stream is closed");
        if (!hasNext()) throw new NoSuchElementException("the ordered pass has ended after " + batches + " batches");
        Object item;
        if (queues.isEmpty()) {
            item = decode(next);
        } else {
            try {
                item = queues.get((int) ((next - start) % queues.size())).take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new DataException("interrupted while waiting for batch " + next, e);
            }
        }
        if (item instanceof Failure f) {
            close();
            throw new DataException("decoding batch " + next + " failed: " + f.error().getMessage(), f.error());
        }
        next++;
        return (Batch) item;
    }

    /** The batch number {@link #next} returns next: save it with a checkpoint and pass it back to resume. */
    public long position() {
        return next;
    }

    /** Epoch of the next batch's first image. */
    public long epoch() {
        return next * batchSize / source.size();
    }

    /**
     * Stops the workers and waits for them to finish the image in hand, so the source (which stays open: its owner
     * closes it) may be closed safely right after; an LMDB closed under a running read could crash the process.
     */
    @Override
    public void close() {
        closed = true;
        threads.forEach(Thread::interrupt);
        boolean interrupted = false;
        for (Thread t : threads) {
            if (t == Thread.currentThread()) continue;
            try {
                t.join(10_000);
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
    }
}
