package woodflow.train;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonValue;
import woodflow.core.Choice;
import woodflow.core.Choices;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * How the learning rate moves over a run ({@code train.schedule}), on top of the linear warm-up
 * ({@code train.warmup}) and of {@code train.lr}, the base rate. With {@code base} the base rate, {@code W} the
 * warm-up, {@code N} the run's iterations ({@code train.iterations}) and {@code E} the iterations of an epoch
 * ({@code floor(training images / batch)}, at least 1), iteration {@code it} (0-based) trains at
 * <pre>
 *   lr(it)   = base * min(1, (it + 1) / W) * s(it)                  (no warm-up factor when W = 0)
 *   constant     s(it) = 1
 *   exponential  s(it) = rate after e = floor(it / E) epochs of the paper's code: starting at 1, at the end of each
 *                        epoch the rate is multiplied by decay if it is still above floor (strictly);
 *                        so s = decay^min(e, k), k the first count with decay^k <= floor
 *   cosine       s(it) = floor + (1 - floor) (1 + cos(pi p)) / 2,   p = min(1, max(0, it - W) / max(1, N - W))
 * </pre>
 * The exponential rule is the official Woodbury code's (github yolu1055/WoodburyTransformations, GlowLearner and
 * train_main): PyTorch's {@code ExponentialLR} with gamma 0.95 stepped after every epoch of a DataLoader that drops
 * the last partial batch, while the rate is above 1/100 of the start; so {@code decay: 0.95, floor: 0.01} (the
 * defaults) trains "as the official code". It is computed as that code does, by repeated multiplication of the
 * rate, so the last bit agrees too. Cosine decays from the base to {@code floor} times it over the iterations after
 * the warm-up (as TarFlow and DenseFlow train); a run resumed with more iterations stretches its curve.
 *
 * <p>In YAML: {@code schedule: cosine}, or with its parameters {@code schedule: {kind: exponential, decay: 0.95,
 * floor: 0.01}}. The rate is a function of the iteration alone (and of the base rate, which a recovery from
 * non-finite steps halves), so a resumed run trains at exactly the rates of an uninterrupted one.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record LrSchedule(Kind kind, Double decay, Double floor) {
    /** The shape of a schedule ({@code train.schedule.kind}). */
    public enum Kind implements Choice {
        CONSTANT, EXPONENTIAL, COSINE;

        @Override
        public String toString() {
            return label();
        }

        @JsonCreator
        public static Kind parse(String name) {
            return Choices.parse(Kind.class, name, "train.schedule");
        }
    }

    /** The paper code's decay per epoch. */
    public static final double PAPER_DECAY = 0.95;
    /** The paper code's floor: 1/100 of the starting rate. */
    public static final double PAPER_FLOOR = 0.01;

    public static final LrSchedule CONSTANT = new LrSchedule(Kind.CONSTANT, null, null);

    @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
    public LrSchedule(@JsonProperty("kind") Kind kind, @JsonProperty("decay") Double decay,
                      @JsonProperty("floor") Double floor) {
        this.kind = kind == null ? Kind.CONSTANT : kind;
        // Double.valueOf: a ternary of a double and a Double would unbox the null
        this.decay = decay == null && this.kind == Kind.EXPONENTIAL ? Double.valueOf(PAPER_DECAY) : decay;
        this.floor = floor == null && this.kind != Kind.CONSTANT ? Double.valueOf(PAPER_FLOOR) : floor;
    }

    /** {@code schedule: NAME}, the short form: the kind with its default parameters. */
    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    public static LrSchedule named(String kind) {
        return new LrSchedule(Kind.parse(kind), null, null);
    }

    /** The short form for a constant rate, the full form otherwise. */
    @JsonValue
    Object json() {
        if (kind == Kind.CONSTANT && decay == null && floor == null) return kind.label();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kind", kind.label());
        if (decay != null) m.put("decay", decay);
        if (floor != null) m.put("floor", floor);
        return m;
    }

    /** The problems of this schedule, each naming its key, for {@link TrainConfig#validate()}. */
    List<String> problems() {
        List<String> p = new ArrayList<>();
        if (kind != Kind.EXPONENTIAL && decay != null) {
            p.add("schedule.decay applies to the exponential schedule only, not " + kind + "; remove it");
        }
        if (kind == Kind.CONSTANT && floor != null) {
            p.add("schedule.floor applies to the exponential and cosine schedules, not constant; remove it");
        }
        if (decay != null && !(decay > 0 && decay < 1)) {
            p.add("schedule.decay must be in (0, 1) (the factor per epoch, e.g. 0.95), got " + decay);
        }
        if (floor != null && !(floor >= 0 && floor < 1)) {
            p.add("schedule.floor must be in [0, 1) (a fraction of train.lr, e.g. 0.01), got " + floor);
        }
        if (kind == Kind.EXPONENTIAL && floor != null && floor == 0) {
            p.add("schedule.floor of the exponential schedule must be above 0 (the rate would decay forever)");
        }
        return p;
    }

    /**
     * The learning rate of iteration {@code it} (0-based) for base rate {@code base}, warm-up {@code warmup}, a run
     * of {@code iterations} and epochs of {@code stepsPerEpoch} iterations: see the class comment.
     */
    public double lr(double base, long it, int warmup, long iterations, long stepsPerEpoch) {
        double warm = warmup > 0 ? Math.min(1.0, (it + 1) / (double) warmup) : 1.0;
        return switch (kind) {
            case CONSTANT -> base * warm;
            case EXPONENTIAL -> warm * exponential(base, it / Math.max(1, stepsPerEpoch));
            case COSINE -> {
                double p = Math.min(1.0, Math.max(0, it - warmup) / (double) Math.max(1, iterations - warmup));
                yield base * warm * (floor + (1 - floor) * 0.5 * (1 + Math.cos(Math.PI * p)));
            }
        };
    }

    /**
     * The official code's rate after {@code epochs} epochs from {@code base}: multiplied by decay at the end of each
     * epoch while it is above base / (1 / floor) (the code's {@code lr / 100.0} for floor 0.01).
     */
    private double exponential(double base, long epochs) {
        double threshold = base / (1.0 / floor);
        double rate = base;
        for (long e = 0; e < epochs && rate > threshold; e++) rate *= decay;
        return rate;
    }

    /** A short description for logs: "constant", "exponential (x0.95 per epoch, down to 0.01 of train.lr)", ... */
    public String describe() {
        return switch (kind) {
            case CONSTANT -> "constant";
            case EXPONENTIAL -> String.format(Locale.ROOT, "exponential (x%s per epoch while above %s of train.lr)",
                    decay, floor);
            case COSINE -> String.format(Locale.ROOT, "cosine (down to %s of train.lr at the last iteration)", floor);
        };
    }
}
