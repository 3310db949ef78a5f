package woodflow.data;

import java.util.List;
import java.util.Locale;
import java.util.function.IntUnaryOperator;
import java.util.function.Supplier;

/**
 * The class of every image of a source, where its format records one: CIFAR-10's label byte, an IDX label file
 * beside the images (MNIST, Fashion-MNIST), the sub-folder of an image folder, the category of an LSUN database,
 * the shape the embedded generator drew. Labels are {@code 0 .. names().size() - 1}, in the order of
 * {@link #names()}; a label is looked up by the index of the image in its source.
 *
 * <p>Sources hand out their labels through {@link ImageSource#labels()}; the label files are read when the labels
 * are first asked for, so a model that uses none reads none (and a missing label file bothers nobody who does not
 * need it).
 */
public interface ClassLabels {
    /** The class names, in label order. */
    List<String> names();

    /** The label of image {@code index} of the source. */
    int label(int index);

    /** The labels of {@code indices}, in order. */
    default int[] labels(int[] indices) {
        int[] out = new int[indices.length];
        for (int i = 0; i < indices.length; i++) out[i] = label(indices[i]);
        return out;
    }

    /** Labels from a function of the index, with {@code names}. */
    static ClassLabels of(List<String> names, IntUnaryOperator label) {
        List<String> copy = List.copyOf(names);
        return new ClassLabels() {
            @Override
            public List<String> names() {
                return copy;
            }

            @Override
            public int label(int index) {
                return label.applyAsInt(index);
            }
        };
    }

    /** Labels read once, on first use, from {@code read} (which names its file in any error). */
    static ClassLabels lazy(List<String> names, Supplier<byte[]> read) {
        List<String> copy = List.copyOf(names);
        return new ClassLabels() {
            private volatile byte[] labels;

            @Override
            public List<String> names() {
                return copy;
            }

            @Override
            public int label(int index) {
                byte[] l = labels;
                if (l == null) {
                    synchronized (this) {
                        if (labels == null) labels = read.get();
                        l = labels;
                    }
                }
                return l[index] & 255;
            }
        };
    }

    /** The labels of a view: image {@code i} of the view is image {@code baseIndex.applyAsInt(i)} of the source. */
    default ClassLabels mapped(IntUnaryOperator baseIndex) {
        ClassLabels base = this;
        return of(names(), i -> base.label(baseIndex.applyAsInt(i)));
    }

    /** Class names as numbers, "0" .. "n-1" (an IDX label file that comes with no names). */
    static List<String> numbered(int n) {
        return java.util.stream.IntStream.range(0, n).mapToObj(Integer::toString).toList();
    }

    /** The label of the class named {@code name} (ignoring case), or -1. */
    default int indexOf(String name) {
        List<String> names = names();
        for (int i = 0; i < names.size(); i++) {
            if (names.get(i).equalsIgnoreCase(name.strip())) return i;
        }
        return -1;
    }

    /**
     * The labels of {@code source} for a model of the classes {@code classes}: an error naming the source when it has
     * no labels, or when its classes are not those (in that order).
     */
    static ClassLabels require(ImageSource source, List<String> classes) {
        ClassLabels l = source.labels().orElseThrow(() -> new DataException(source.describe() + ": has no class "
                + "labels, but the model is class-conditional (classes " + String.join(", ", classes) + "); labels "
                + "come from CIFAR-10's label byte, IDX label files beside the images, class sub-folders of an image "
                + "folder, LSUN categories and the embedded shapes"));
        if (!l.names().equals(classes)) {
            throw new DataException(source.describe() + ": its classes (" + String.join(", ", l.names()) + ") are not "
                    + "the model's (" + String.join(", ", classes) + ")");
        }
        return l;
    }

    /** A name as a class name: lower case, spaces and slashes as '-' ("T-shirt/top" is "t-shirt-top"). */
    static String clean(String name) {
        return name.strip().toLowerCase(Locale.ROOT).replaceAll("[\\s/]+", "-");
    }
}
