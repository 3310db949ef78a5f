package woodflow.data;

import java.util.List;

/** Images held in memory: the embedded data set, small test fixtures and cached data sets. */
public final class ArraySource implements ImageSource {
    private final List<byte[]> images;
    private final int c;
    private final int h;
    private final int w;
    private final String description;
    private ClassLabels labels;

    /** The same images with class {@code labels} (null: none). */
    public ArraySource withLabels(ClassLabels labels) {
        ArraySource s = new ArraySource(images, c, h, w, description);
        s.labels = labels;
        return s;
    }

    @Override
    public java.util.Optional<ClassLabels> labels() {
        return java.util.Optional.ofNullable(labels);
    }

    public ArraySource(List<byte[]> images, int c, int h, int w, String description) {
        for (int i = 0; i < images.size(); i++) {
            if (images.get(i).length != c * h * w) {
                throw new DataException(description + ": image " + i + " has " + images.get(i).length
                        + " bytes, expected " + c + "x" + h + "x" + w + " = " + (c * h * w));
            }
        }
        this.images = images;
        this.c = c;
        this.h = h;
        this.w = w;
        this.description = description;
    }

    @Override
    public int size() {
        return images.size();
    }

    @Override
    public int channels() {
        return c;
    }

    @Override
    public int height() {
        return h;
    }

    @Override
    public int width() {
        return w;
    }

    @Override
    public byte[] image(int index) {
        return images.get(index);
    }

    @Override
    public String describe() {
        return description + ": " + images.size() + " images, " + c + "x" + h + "x" + w;
    }
}
