package woodflow.sample;

import woodflow.core.Choices;

import java.util.List;

/**
 * A class of a class-conditional model, as a user names it ({@code sample --class ring}, the dashboard's class
 * selector): its label, or a one-line error that says why not (the model takes no classes; no class of that name,
 * with the names and the nearest one).
 */
public final class ClassChoice {
    private ClassChoice() {}

    /**
     * The label of the class called {@code name} (ignoring case) among {@code classes}, the model's class names (empty
     * for a model that is not class-conditional); {@code model} names the model in the error, e.g. "checkpoint
     * runs/x/checkpoints/best.safetensors".
     */
    public static int resolve(List<String> classes, String name, String model) {
        return resolve(classes, name, model, "--class");
    }

    /**
     * As {@link #resolve(List, String, String)}, for a class named by {@code option} ({@code --class} on the command
     * line, the parameter {@code class} of the dashboard's API), which the message names.
     */
    public static int resolve(List<String> classes, String name, String model, String option) {
        if (classes.isEmpty()) {
            throw new IllegalArgumentException(option + " " + name + ": " + model + " is not class-conditional (its "
                    + "model.conditional is none), so it has no classes to choose from; leave out " + option
                    + ", or train a model with model.conditional: class");
        }
        String wanted = name.strip();
        for (int i = 0; i < classes.size(); i++) if (classes.get(i).equalsIgnoreCase(wanted)) return i;
        List<String> near = Choices.closest(wanted, classes);
        throw new IllegalArgumentException(option + " " + name + " is not a class of " + model + " (its classes: "
                + String.join(", ", classes) + ")" + (near.isEmpty() ? "" : "; did you mean " + String.join(" or ",
                near) + "?"));
    }

    /** Labels for a grid of {@code n} images in rows of {@code columns}: row r is of class r mod k. */
    public static int[] byRow(int n, int columns, int k) {
        int[] y = new int[n];
        for (int i = 0; i < n; i++) y[i] = (i / columns) % k;
        return y;
    }
}
