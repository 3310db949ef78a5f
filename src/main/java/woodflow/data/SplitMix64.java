package woodflow.data;

/**
 * A fully specified pseudo-random generator (SplitMix64, Steele, Lea and Flood 2014) for everything in the data layer
 * that must be the same on every run, JVM and machine: hold-out splits, epoch permutations and the embedded data set.
 * Written out here, rather than taken from {@code java.util}, so that the sequence is part of woodflow's contract and
 * cannot change with a JDK update.
 *
 * <pre>
 *   state += 0x9E3779B97F4A7C15
 *   z = state;  z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9;  z = (z ^ (z >>> 27)) * 0x94D049BB133111EB
 *   next = z ^ (z >>> 31)
 * </pre>
 */
public final class SplitMix64 {
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;
    private long state;

    public SplitMix64(long seed) {
        this.state = seed;
    }

    /** A generator for one member of a family, e.g. (seed, epoch) or (seed, image index): streams do not overlap. */
    public static SplitMix64 of(long seed, long stream) {
        return new SplitMix64(mix(seed ^ mix(stream + GOLDEN)));
    }

    /** The SplitMix64 output function: a bijective 64-bit mixer. */
    public static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    public long nextLong() {
        state += GOLDEN;
        return mix(state);
    }

    /** Uniform in [0, bound) without modulo bias (rejection of the short last interval). */
    public int nextInt(int bound) {
        if (bound <= 0) throw new IllegalArgumentException("bound must be positive, got " + bound);
        long limit = Long.remainderUnsigned(-1L, bound) + 1; // 2^64 mod bound values are rejected
        while (true) {
            long r = nextLong();
            if (Long.compareUnsigned(r, -limit) < 0 || limit == bound) return (int) Long.remainderUnsigned(r, bound);
        }
    }

    /** Uniform in [0, 1) with 53 random bits. */
    public double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    /** A permutation of 0..n-1 by Fisher-Yates, the same for the same generator state everywhere. */
    public int[] permutation(int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }
}
