package woodflow.data;

/**
 * A random-access set of 8-bit images, all of one shape: the interface every data set format implements. An image
 * is returned in channel planes, row-major ({@code C x H x W} bytes, values 0..255), already brought to the model's
 * size by the source (padding, centre crop, resizing).
 *
 * <p>Implementations may read lazily from disk; {@link #image} must be safe to call from several threads at once
 * (the batch streamer decodes in the background).
 */
public interface ImageSource extends AutoCloseable {
    /** Number of images. */
    int size();

    int channels();

    int height();

    int width();

    /**
     * Image {@code index} as {@code channels * height * width} unsigned bytes in CHW order.
     *
     * @throws DataException naming the file and the image when it cannot be read or decoded
     */
    byte[] image(int index);

    /**
     * The class of each image, where the format records one ({@link ClassLabels}); empty for formats without labels
     * (generated scenes, ImageNet, CelebA, a folder without class sub-folders).
     */
    default java.util.Optional<ClassLabels> labels() {
        return java.util.Optional.empty();
    }

    /** A one-line description for logs and {@code data inspect}: format, path, count, shape. */
    String describe();

    @Override
    default void close() {}
}
