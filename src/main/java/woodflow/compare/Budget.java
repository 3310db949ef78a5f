package woodflow.compare;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import woodflow.io.Json;
import woodflow.train.TrainConfig;

/**
 * How long every run of a study trains: a number of iterations (the same number of gradient steps for every
 * method), or a number of minutes of training-step time (a fair-time comparison: each method trains until its time
 * is used, evaluated every {@code eval_every} iterations and once more where it stops). Time is the sum of the
 * training steps' durations as the trainer counts it ({@code train_seconds}): evaluation, checkpoints and process
 * start-up are not charged to a method.
 *
 * @param iterations the iteration budget, or null for a time budget
 * @param minutes    the time budget in minutes, or null for an iteration budget
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Budget(Integer iterations, Double minutes) {
    public Budget {
        if ((iterations == null) == (minutes == null)) {
            throw new IllegalArgumentException("give a budget in iterations or in minutes, not both or neither");
        }
        if (iterations != null && iterations < 1) {
            throw new IllegalArgumentException("--budget must be at least 1 iteration, got " + iterations);
        }
        if (minutes != null && !(minutes > 0 && Double.isFinite(minutes))) {
            throw new IllegalArgumentException("--minutes must be a positive number, got " + minutes);
        }
    }

    public static Budget ofIterations(int n) {
        return new Budget(n, null);
    }

    public static Budget ofMinutes(double m) {
        return new Budget(null, m);
    }

    public boolean timed() {
        return minutes != null;
    }

    /** The time budget in seconds of training steps (infinite for an iteration budget). */
    public double seconds() {
        return timed() ? minutes * 60 : Double.POSITIVE_INFINITY;
    }

    /**
     * The training settings of a run under this budget: its iteration count, or for a time budget an iteration cap
     * no run reaches (the time stops it).
     */
    public TrainConfig apply(TrainConfig t) {
        return t.toBuilder().iterations(timed() ? Integer.MAX_VALUE : iterations).build();
    }

    /** Whether a run that reached these counts has used its budget. */
    public boolean isMet(long doneIterations, double doneSeconds) {
        return timed() ? doneSeconds >= seconds() : doneIterations >= iterations;
    }

    /** Whether a finished run's {@code cell.json} shows this budget used. */
    public boolean isMet(JsonNode cell) {
        return isMet(cell.path("iterations").asLong(), cell.path("train_seconds").asDouble());
    }

    /** For tables and logs: "200 iterations" or "5 minutes of training steps". */
    public String describe() {
        return timed() ? java.math.BigDecimal.valueOf(minutes).stripTrailingZeros().toPlainString()
                + " minutes of training steps per run"
                : iterations + " iterations per run";
    }

    /** As the child process takes it: the record as JSON, {"iterations":N} or {"minutes":M} (an exact round trip). */
    String encode() {
        try {
            return Json.MAPPER.writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static Budget decode(String s) {
        try {
            return Json.MAPPER.readValue(s, Budget.class);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("bad budget '" + s + "': expected {\"iterations\": N} or "
                    + "{\"minutes\": M}");
        }
    }
}
