package woodflow.quality;

import woodflow.data.ImageSource;
import woodflow.data.ShapeSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * How many samples a person would name, as a number: the share of images whose shape (disc, square or ring) a
 * {@link ShapeClassifier} trained on the generator's labels names with probability at least
 * {@link ShapeClassifier#CONFIDENCE}, for the samples beside the same share for real test images (what a perfect
 * model reaches) and for uniform noise (what the classifier gives to nothing at all). Only the labelled embedded data
 * ({@code data.style: shapes}) has it.
 *
 * @param samples share of the samples recognised
 * @param real share of the real test images recognised
 * @param noise share of uniform-noise images recognised
 * @param sampleCount how many samples were classified
 * @param realCount how many real test images were classified
 * @param noiseCount how many noise images were classified
 * @param perKind how many samples were recognised as each {@link ShapeSource.Kind}, in its order
 * @param seconds the classifier's training and evaluation time
 */
public record Recognisability(double samples, double real, double noise, int sampleCount, int realCount,
                              int noiseCount, int[] perKind, double seconds) {
    private static final int REFERENCE_IMAGES = 256;

    /**
     * Measures {@code samples} (C x S x S bytes) against the run's data, or returns null when the data is not the
     * labelled embedded shapes. The classifier is trained on {@code train} with {@code seed}.
     */
    public static Recognisability measure(ImageSource train, ImageSource test, List<byte[]> samples, int nBits,
                                          long seed) {
        long t0 = System.nanoTime();
        ShapeClassifier net = classifierFor(train, test, nBits, seed);
        return net == null ? null : measure(net, train, test, samples, seed, t0);
    }

    /**
     * The shape classifier for a run's data, trained on {@code train} with {@code seed}, or null when the data is not
     * the labelled embedded shapes.
     */
    public static ShapeClassifier classifierFor(ImageSource train, ImageSource test, int nBits, long seed) {
        if (!(train instanceof ShapeSource labelled) || !(test instanceof ShapeSource) || train.height() < 8) {
            return null;
        }
        return ShapeClassifier.train(labelled, nBits, seed);
    }

    /** As above with a trained classifier; {@code t0} (System.nanoTime) is when its training began. */
    public static Recognisability measure(ShapeClassifier net, ImageSource train, ImageSource test,
                                          List<byte[]> samples, long seed, long t0) {
        List<byte[]> real = new ArrayList<>();
        for (int i = 0; i < Math.min(REFERENCE_IMAGES, test.size()); i++) real.add(test.image(i));
        int[] perKind = new int[ShapeSource.Kind.values().length];
        int recognised = 0;
        for (int kind : net.confidentKinds(samples)) {
            if (kind < 0) continue;
            recognised++;
            perKind[kind]++;
        }
        double noise = net.confidentShare(ShapeClassifier.noise(REFERENCE_IMAGES, train.channels(), train.height(),
                seed + 1));
        return new Recognisability(samples.isEmpty() ? Double.NaN : recognised / (double) samples.size(),
                net.confidentShare(real), noise, samples.size(), real.size(), REFERENCE_IMAGES, perKind,
                (System.nanoTime() - t0) / 1e9);
    }

    /** The recognised samples by kind, e.g. "disc 20, square 9, ring 14". */
    public String kinds() {
        List<String> parts = new ArrayList<>();
        for (ShapeSource.Kind k : ShapeSource.Kind.values()) {
            parts.add(k.name().toLowerCase(Locale.ROOT) + " " + perKind[k.ordinal()]);
        }
        return String.join(", ", parts);
    }

    /** The one-line summary the demo ends with. */
    public String line() {
        return String.format(Locale.ROOT, "recognisable: samples %.0f%% · real %.0f%% · noise %.0f%% (shape classifier,"
                + " confidence >= %.1f; %d samples at T = 0.7: %s)", 100 * samples, 100 * real, 100 * noise,
                ShapeClassifier.CONFIDENCE, sampleCount, kinds());
    }
}
