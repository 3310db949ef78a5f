package woodflow.data;

/**
 * The embedded data set: images drawn by code, so a run needs no files. Each image is a background (a solid colour,
 * a linear gradient between two colours, or two-colour stripes at an angle) with one to three shapes on it (discs,
 * squares, rings), from a palette of ten colours with a little jitter. Edges are anti-aliased by exact pixel coverage.
 * The structure is simple enough that a small flow learns it within minutes, and varied enough that its samples
 * visibly improve: flat regions, sharp edges and smooth gradients.
 *
 * <p>Image {@code i} is generated from its own {@link SplitMix64} stream {@code (seed, first + i)}: any image can be
 * drawn at any time, on any thread, in any order, and is the same everywhere. The training and test sets use disjoint
 * index ranges. Drawing costs a few microseconds per 32x32 image, so nothing is stored.
 */
public final class EmbeddedSource extends GeneratedSource {
    private static final int[][] PALETTE = {
        {230, 57, 70}, {244, 162, 97}, {233, 196, 106}, {42, 157, 143}, {38, 70, 83},
        {69, 123, 157}, {168, 218, 220}, {241, 250, 238}, {131, 56, 236}, {20, 20, 24},
    };

    /** {@code count} images of {@code channels x size x size} (1 = grey, 3 = RGB), indices {@code first..}. */
    public EmbeddedSource(int count, int channels, int size, long seed, long first) {
        super("the embedded data set needs", 4, count, channels, size, seed, first);
    }

    @Override
    public byte[] image(int index) {
        SplitMix64 rng = stream(index);
        int n = size * size;
        float[] rgb = new float[3 * n];
        background(rgb, rng);
        int shapes = 1 + rng.nextInt(3);
        for (int s = 0; s < shapes; s++) shape(rgb, rng);
        return toBytes(rgb, channels, n);
    }

    private static byte clampByte(float v) {
        int r = Math.round(v);
        return (byte) (r < 0 ? 0 : Math.min(r, 255));
    }

    private static float[] colour(SplitMix64 rng) {
        int[] c = PALETTE[rng.nextInt(PALETTE.length)];
        float[] out = new float[3];
        for (int k = 0; k < 3; k++) out[k] = c[k] + (float) (rng.nextDouble() - 0.5) * 24;
        return out;
    }

    private void background(float[] rgb, SplitMix64 rng) {
        int n = size * size;
        float[] a = colour(rng);
        int kind = rng.nextInt(3);
        if (kind == 0) {
            for (int k = 0; k < 3; k++) java.util.Arrays.fill(rgb, k * n, (k + 1) * n, a[k]);
            return;
        }
        float[] b = colour(rng);
        double angle = rng.nextDouble() * 2 * Math.PI;
        double dx = Math.cos(angle);
        double dy = Math.sin(angle);
        double period = size * (0.12 + 0.2 * rng.nextDouble());
        double phase = rng.nextDouble() * period;
        double half = size / 2.0;
        double invPeriod = 1 / period;
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                double u = (x + 0.5 - half) * dx + (y + 0.5 - half) * dy; // signed distance along the axis
                double t;
                if (kind == 1) {
                    t = Math.min(1, Math.max(0, u / (size * 0.71) + 0.5)); // gradient across the diagonal
                } else {
                    double q = (u + phase) * invPeriod;
                    t = q - Math.floor(q) < 0.5 ? 0 : 1; // first or second half of a stripe period
                }
                int i = y * size + x;
                float ft = (float) t;
                for (int k = 0; k < 3; k++) rgb[k * n + i] = (1 - ft) * a[k] + ft * b[k];
            }
        }
    }

    private void shape(float[] rgb, SplitMix64 rng) {
        float[] c = colour(rng);
        int kind = rng.nextInt(3);
        double radius = size * (0.1 + 0.22 * rng.nextDouble());
        double cx = radius * 0.5 + rng.nextDouble() * (size - radius);
        double cy = radius * 0.5 + rng.nextDouble() * (size - radius);
        double inner = radius * (0.45 + 0.2 * rng.nextDouble());
        paint(rgb, size, ShapeSource.Kind.values()[kind], c, cx, cy, radius, inner);
    }

    /**
     * Paints one shape over the planar RGB image {@code rgb} ({@code size x size}), blending by the pixel's covered
     * area: a square of half-side {@code radius} (exact area), or a disc or ring of outer radius {@code radius}
     * (ring: hole of radius {@code inner}) whose edge coverage is a one-pixel linear ramp. Shared by both embedded
     * generators.
     */
    static void paint(float[] rgb, int size, ShapeSource.Kind kind, float[] c, double cx, double cy, double radius,
                      double inner) {
        int n = size * size;
        int x0 = Math.max(0, (int) Math.floor(cx - radius - 1));
        int x1 = Math.min(size, (int) Math.ceil(cx + radius + 1));
        int y0 = Math.max(0, (int) Math.floor(cy - radius - 1));
        int y1 = Math.min(size, (int) Math.ceil(cy + radius + 1));
        for (int y = y0; y < y1; y++) {
            for (int x = x0; x < x1; x++) {
                double cover;
                if (kind == ShapeSource.Kind.SQUARE) {
                    // exact area of the pixel [x, x+1) x [y, y+1) inside the square of half-side `radius`
                    double ox = Math.max(0, Math.min(x + 1, cx + radius) - Math.max(x, cx - radius));
                    double oy = Math.max(0, Math.min(y + 1, cy + radius) - Math.max(y, cy - radius));
                    cover = ox * oy;
                } else {
                    // one-pixel linear ramp across the circle's edge approximates its coverage
                    double ex = x + 0.5 - cx;
                    double ey = y + 0.5 - cy;
                    double d = Math.sqrt(ex * ex + ey * ey);
                    cover = Math.min(1, Math.max(0, radius - d + 0.5));
                    if (kind == ShapeSource.Kind.RING) cover *= Math.min(1, Math.max(0, d - inner + 0.5));
                }
                if (cover <= 0) continue;
                int i = y * size + x;
                for (int k = 0; k < 3; k++) rgb[k * n + i] += (float) cover * (c[k] - rgb[k * n + i]);
            }
        }
    }

    /** Planar RGB floats to {@code channels} planes of bytes (grey by the BT.601 luma weights). */
    static byte[] toBytes(float[] rgb, int channels, int n) {
        byte[] out = new byte[channels * n];
        for (int i = 0; i < n; i++) {
            float r = rgb[i];
            float g = rgb[n + i];
            float b = rgb[2 * n + i];
            if (channels == 1) {
                out[i] = clampByte(0.299f * r + 0.587f * g + 0.114f * b);
            } else {
                out[i] = clampByte(r);
                out[n + i] = clampByte(g);
                out[2 * n + i] = clampByte(b);
            }
        }
        return out;
    }

    @Override
    public String describe() {
        return "embedded shapes (seed " + seed + ", images " + first + ".." + (first + count - 1) + "): " + count
                + " images, " + channels + "x" + size + "x" + size;
    }
}
