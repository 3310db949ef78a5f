package woodflow.data;

/**
 * A view of some images of another source, by index: a hold-out split, or the first N images for
 * {@code train_limit} / {@code test_limit}. Closing it closes the underlying source.
 */
public final class IndexedSource implements ImageSource {
    private final ImageSource base;
    private final int[] indices;
    private final String what;

    public IndexedSource(ImageSource base, int[] indices, String what) {
        for (int i : indices) {
            if (i < 0 || i >= base.size()) throw new IndexOutOfBoundsException(i + " of " + base.size());
        }
        this.base = base;
        this.indices = indices.clone();
        this.what = what;
    }

    /** The first {@code n} images of {@code base} (all of them if it has fewer). */
    public static ImageSource first(ImageSource base, int n) {
        if (n < 0) throw new DataException("an image limit must not be negative, got " + n);
        if (n >= base.size()) return base;
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) idx[i] = i;
        return new IndexedSource(base, idx, "first " + n);
    }

    /** Index in the underlying source of image {@code i} of this view. */
    public int baseIndex(int i) {
        return indices[i];
    }

    @Override
    public int size() {
        return indices.length;
    }

    @Override
    public int channels() {
        return base.channels();
    }

    @Override
    public int height() {
        return base.height();
    }

    @Override
    public int width() {
        return base.width();
    }

    @Override
    public byte[] image(int index) {
        return base.image(indices[index]);
    }

    @Override
    public java.util.Optional<ClassLabels> labels() {
        return base.labels().map(l -> l.mapped(i -> indices[i]));
    }

    @Override
    public String describe() {
        return what + " (" + indices.length + " images) of " + base.describe();
    }

    @Override
    public void close() {
        base.close();
    }
}
