package woodflow.compare;

import woodflow.train.RunConfig;

import java.util.regex.Pattern;

/**
 * One contestant of a study: a method (in a comparison) or one value of a hyper-parameter (in an ablation), with
 * the run config every one of its seeds trains (the budget and the seed are applied per run).
 *
 * @param name   folder-safe name; its runs live in {@code OUT/runs/NAME-sSEED}
 * @param label  what the table shows in its first column (the method, or the hyper-parameter's value)
 * @param config the run config, identical across variants except for the model
 */
public record Variant(String name, String label, RunConfig config) {
    private static final Pattern SAFE = Pattern.compile("[A-Za-z0-9._-]+");

    public Variant {
        if (!SAFE.matcher(name).matches()) {
            throw new IllegalArgumentException("variant name '" + name + "' is not a plain folder name");
        }
        config.validate();
    }
}
