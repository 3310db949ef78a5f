package woodflow.data;

/**
 * An image source drawn by code ({@link EmbeddedSource}, {@link ShapeSource}): {@code count} square images of
 * {@code channels x size x size}, image {@code i} drawn from its own {@link SplitMix64} stream {@code (seed, first +
 * i)}, so any image can be drawn at any time, on any thread, and is the same everywhere.
 */
abstract sealed class GeneratedSource implements ImageSource permits EmbeddedSource, ShapeSource {
    protected final int count;
    protected final int channels;
    protected final int size;
    protected final long seed;
    protected final long first;

    /**
     * {@code needs} begins the error for too small a size ("the embedded shapes need"); {@code minSize} is
     * the smallest side the images can be drawn at.
     */
    GeneratedSource(String needs, int minSize, int count, int channels, int size, long seed, long first) {
        if (channels != 1 && channels != 3) {
            throw new DataException("the embedded data set has 1 or 3 channels, not " + channels);
        }
        if (size < minSize) {
            throw new DataException(needs + " a size of at least " + minSize + " pixels, got " + size);
        }
        if (count < 0) throw new DataException("embedded image count must not be negative, got " + count);
        this.count = count;
        this.channels = channels;
        this.size = size;
        this.seed = seed;
        this.first = first;
    }

    /** The random stream of image {@code index} (checked to exist). */
    protected SplitMix64 stream(int index) {
        if (index < 0 || index >= count) throw new IndexOutOfBoundsException(index + " of " + count);
        return SplitMix64.of(seed, first + index);
    }

    @Override
    public int size() {
        return count;
    }

    @Override
    public int channels() {
        return channels;
    }

    @Override
    public int height() {
        return size;
    }

    @Override
    public int width() {
        return size;
    }
}
