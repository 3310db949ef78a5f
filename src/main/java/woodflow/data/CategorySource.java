package woodflow.data;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Several sources of one image shape, one per category, read as one: image {@code i} is image {@code i - first_c}
 * of category {@code c}'s source, and its class label is {@code c}. LSUN ships one LMDB database per category
 * ({@code bedroom_train_lmdb}, {@code church_outdoor_train_lmdb}, ...): a folder holding several is their union,
 * labelled by category. Closing it closes every category's source.
 */
public final class CategorySource implements ImageSource {
    private final List<ImageSource> parts;
    private final List<String> names;
    private final int[] first;
    private final String what;

    /** {@code parts.get(c)} holds the images of category {@code names.get(c)}; all of one shape. */
    public CategorySource(String what, List<String> names, List<? extends ImageSource> parts) {
        if (parts.isEmpty() || parts.size() != names.size()) {
            throw new IllegalArgumentException("one source per category: " + names.size() + " names, " + parts.size()
                    + " sources");
        }
        ImageSource a = parts.get(0);
        first = new int[parts.size() + 1];
        for (int c = 0; c < parts.size(); c++) {
            ImageSource p = parts.get(c);
            if (p.channels() != a.channels() || p.height() != a.height() || p.width() != a.width()) {
                throw new DataException(p.describe() + ": its images are " + p.channels() + "x" + p.height() + "x"
                        + p.width() + ", those of " + names.get(0) + " " + a.channels() + "x" + a.height() + "x"
                        + a.width());
            }
            first[c + 1] = Math.addExact(first[c], p.size());
        }
        this.parts = List.copyOf(parts);
        this.names = List.copyOf(names);
        this.what = what;
    }

    private int category(int index) {
        if (index < 0 || index >= size()) throw new IndexOutOfBoundsException(index + " of " + size());
        int c = 0;
        while (first[c + 1] <= index) c++;
        return c;
    }

    @Override
    public int size() {
        return first[parts.size()];
    }

    @Override
    public int channels() {
        return parts.get(0).channels();
    }

    @Override
    public int height() {
        return parts.get(0).height();
    }

    @Override
    public int width() {
        return parts.get(0).width();
    }

    @Override
    public byte[] image(int index) {
        int c = category(index);
        return parts.get(c).image(index - first[c]);
    }

    /** The category of each image. */
    @Override
    public Optional<ClassLabels> labels() {
        return Optional.of(ClassLabels.of(names, this::category));
    }

    @Override
    public String describe() {
        List<String> each = new ArrayList<>();
        for (int c = 0; c < parts.size(); c++) each.add(names.get(c) + " " + parts.get(c).size());
        return what + " (" + names.size() + " categories: " + String.join(", ", each) + "): " + size() + " images, "
                + channels() + "x" + height() + "x" + width();
    }

    @Override
    public void close() {
        RuntimeException first = null;
        for (ImageSource p : parts) {
            try {
                p.close();
            } catch (RuntimeException e) {
                if (first == null) first = e;
            }
        }
        if (first != null) throw first;
    }
}
