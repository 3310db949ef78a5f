package woodflow.quality;

import woodflow.data.ShapeSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Whether a class-conditional model on the embedded shapes draws the shape it is asked for: for each class (disc,
 * square, ring), the share of its samples that the {@link ShapeClassifier} names as that very shape with probability
 * at least {@link ShapeClassifier#CONFIDENCE}. A sample named as another shape, or named as nothing with confidence,
 * counts against it; so the figure is at most the share a person recognises at all ({@link Recognisability}).
 *
 * @param classes   the class names, the shape kinds in label order
 * @param named     per class, the share of its samples named as the requested shape
 * @param other     per class, the share named (confidently) as another shape
 * @param perClass  samples drawn per class
 * @param temperature the temperature they were drawn at
 */
public record ClassRecognisability(List<String> classes, double[] named, double[] other, int perClass,
                                   double temperature) {
    /**
     * Classifies {@code samplesByClass.get(k)}, samples drawn for class k, with {@code net}; null when the classes are
     * not the shape kinds (a conditional model of other data).
     */
    public static ClassRecognisability measure(ShapeClassifier net, List<String> classes,
                                               List<List<byte[]>> samplesByClass, double temperature) {
        if (net == null || !classes.equals(ShapeSource.KIND_NAMES)) return null;
        double[] named = new double[classes.size()], other = new double[classes.size()];
        int per = samplesByClass.get(0).size();
        for (int k = 0; k < classes.size(); k++) {
            List<byte[]> s = samplesByClass.get(k);
            int hit = 0, miss = 0;
            for (int kind : net.confidentKinds(s)) {
                if (kind == k) hit++;
                else if (kind >= 0) miss++;
            }
            named[k] = hit / (double) s.size();
            other[k] = miss / (double) s.size();
        }
        return new ClassRecognisability(List.copyOf(classes), named, other, per, temperature);
    }

    /** The smallest per-class share named as requested. */
    public double worst() {
        double w = 1;
        for (double n : named) w = Math.min(w, n);
        return w;
    }

    /** Per class, e.g. "disc 92% · square 85% · ring 95%". */
    public String shares() {
        List<String> parts = new ArrayList<>();
        for (int k = 0; k < classes.size(); k++) {
            parts.add(String.format(Locale.ROOT, "%s %.0f%%", classes.get(k), 100 * named[k]));
        }
        return String.join(" · ", parts);
    }

    /** The one line the conditional demo ends with. */
    public String line() {
        List<String> others = new ArrayList<>();
        for (int k = 0; k < classes.size(); k++) {
            others.add(String.format(Locale.ROOT, "%s %.0f%%", classes.get(k), 100 * other[k]));
        }
        return String.format(Locale.ROOT, "requested shape: named %s (shape classifier, confidence >= %.1f; %d "
                + "samples of each class at T = %.2g; named as another shape: %s)", shares(),
                ShapeClassifier.CONFIDENCE, perClass, temperature, String.join(", ", others));
    }
}
