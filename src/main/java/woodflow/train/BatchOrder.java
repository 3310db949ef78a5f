package woodflow.train;

import java.util.SplittableRandom;

/**
 * The order in which training images are visited: epoch after epoch, each a permutation drawn from (seed, epoch),
 * consumed {@code batch} images at a time across epoch boundaries. Batch i's indices depend only on (seed, i), so a
 * resumed run continues the data order exactly where it stopped.
 */
public final class BatchOrder {
    private final int size;
    private final int batch;
    private final long seed;
    private int cachedEpoch = -1;
    private int[] cachedPerm;

    public BatchOrder(int size, int batch, long seed) {
        if (size <= 0) throw new IllegalArgumentException("the training set is empty");
        this.size = size;
        this.batch = batch;
        this.seed = seed;
    }

    /** Indices of the images of batch {@code iteration}. */
    public synchronized int[] indices(long iteration) {
        int[] out = new int[batch];
        long pos = iteration * batch;
        for (int i = 0; i < batch; i++, pos++) {
            int epoch = (int) (pos / size);
            out[i] = permutation(epoch)[(int) (pos % size)];
        }
        return out;
    }

    private int[] permutation(int epoch) {
        if (epoch != cachedEpoch) {
            int[] p = new int[size];
            for (int i = 0; i < size; i++) p[i] = i;
            SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + epoch);
            for (int i = size - 1; i > 0; i--) {
                int j = r.nextInt(i + 1);
                int t = p[i];
                p[i] = p[j];
                p[j] = t;
            }
            cachedPerm = p;
            cachedEpoch = epoch;
        }
        return cachedPerm;
    }
}
