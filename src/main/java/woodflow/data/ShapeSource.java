package woodflow.data;

import java.util.Arrays;

/**
 * The embedded data set's clean style ({@code data.style: shapes}): one large shape (a disc, a square or a ring) in
 * one of four saturated colours on a plain dark background, each image labelled with its shape and colour. It is the
 * demo's data: simple enough that a small flow's samples show shapes a person names within minutes, and labelled, so
 * that a classifier trained on the labels can count how many samples look like one of them (the run report's shape
 * classifier).
 *
 * <p>As in {@link EmbeddedSource}, image {@code i} is drawn from its own {@link SplitMix64} stream
 * {@code (seed, first + i)}, so it is the same on every run, thread and machine, and the training and test sets are
 * disjoint index ranges. The shape is large (radius 28-38% of the side) and near the centre (within 12% of the side),
 * so it is never cut off and its kind is plain at 16x16.
 */
public final class ShapeSource extends GeneratedSource {
    /** The shapes drawn, in the order of their labels. */
    public enum Kind { DISC, SQUARE, RING }

    /** The four shape colours (red, yellow, green, blue), in the order of their labels. */
    private static final int[][] COLOURS = {{230, 57, 70}, {240, 200, 60}, {60, 180, 90}, {60, 110, 220}};
    private static final String[] COLOUR_NAMES = {"red", "yellow", "green", "blue"};
    private static final int[] BACKGROUND = {24, 26, 34};

    /** Number of labels: every (shape kind, colour) pair. */
    public static final int CLASSES = Kind.values().length * COLOURS.length;

    /** {@code count} images of {@code channels x size x size} (1 = grey, 3 = RGB), indices {@code first..}. */
    public ShapeSource(int count, int channels, int size, long seed, long first) {
        super("the embedded shapes need", 8, count, channels, size, seed, first);
    }

    /** The label of image {@code index}: {@code kind * 4 + colour}, in {@code 0..CLASSES-1}. */
    public int label(int index) {
        SplitMix64 rng = stream(index);
        int kind = rng.nextInt(Kind.values().length);
        return kind * COLOURS.length + rng.nextInt(COLOURS.length);
    }

    /** The classes of a conditional model on these images: the shape kinds, in the order of {@link Kind}. */
    public static final java.util.List<String> KIND_NAMES = java.util.Arrays.stream(Kind.values())
            .map(k -> k.name().toLowerCase(java.util.Locale.ROOT)).toList();

    /** Each image's class: the kind of shape drawn (disc, square, ring), whatever its colour. */
    @Override
    public java.util.Optional<ClassLabels> labels() {
        return java.util.Optional.of(ClassLabels.of(KIND_NAMES, i -> kindOf(label(i)).ordinal()));
    }

    /** The shape kind of a label. */
    public static Kind kindOf(int label) {
        if (label < 0 || label >= CLASSES) throw new IndexOutOfBoundsException(label + " of " + CLASSES);
        return Kind.values()[label / COLOURS.length];
    }

    /** A label's name, e.g. "red ring". */
    public static String labelName(int label) {
        if (label < 0 || label >= CLASSES) throw new IndexOutOfBoundsException(label + " of " + CLASSES);
        return COLOUR_NAMES[label % COLOURS.length] + " " + Kind.values()[label / COLOURS.length].name()
                .toLowerCase(java.util.Locale.ROOT);
    }

    @Override
    public byte[] image(int index) {
        SplitMix64 rng = stream(index);
        Kind kind = Kind.values()[rng.nextInt(Kind.values().length)];
        int[] base = COLOURS[rng.nextInt(COLOURS.length)];
        int n = size * size;
        float[] rgb = new float[3 * n];
        for (int k = 0; k < 3; k++) Arrays.fill(rgb, k * n, (k + 1) * n, BACKGROUND[k]);
        float[] c = new float[3];
        for (int k = 0; k < 3; k++) c[k] = base[k] + (float) (rng.nextDouble() - 0.5) * 16;
        double radius = size * (0.28 + 0.1 * rng.nextDouble());
        double room = Math.min(size * 0.12, size / 2.0 - radius); // the shape stays whole and near the centre
        double cx = size / 2.0 + (2 * rng.nextDouble() - 1) * room;
        double cy = size / 2.0 + (2 * rng.nextDouble() - 1) * room;
        double inner = radius * (0.45 + 0.15 * rng.nextDouble());
        EmbeddedSource.paint(rgb, size, kind, c, cx, cy, radius, inner);
        return EmbeddedSource.toBytes(rgb, channels, n);
    }

    @Override
    public String describe() {
        return "embedded shapes, one per image (seed " + seed + ", images " + first + ".." + (first + count - 1)
                + "): " + count + " images, " + channels + "x" + size + "x" + size;
    }
}
