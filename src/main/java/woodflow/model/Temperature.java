package woodflow.model;

/**
 * Where a sampling temperature T may lie. Latents are drawn with T times the priors' spread (docs/FORMULAS.md): T = 0
 * gives the priors' means, T = 1 the model's own distribution, and past a few the samples are noise and the inverse
 * can overflow, which is the temperature's fault, not the model's. Each constant is one range with its message; the
 * check itself is one function.
 */
public enum Temperature {
    /** What the model computes with: any finite T >= 0. */
    MODEL(true, Double.MAX_VALUE),
    /**
     * What a user may ask for, on the command line ({@code woodflow sample}) and in the dashboard's sampler alike:
     * above 0 (T = 0 draws every latent at the priors' means, one image over and over), at most 10.
     */
    COMMAND_LINE(false, 10);

    private final boolean zero;
    final double max;

    Temperature(boolean zero, double max) {
        this.zero = zero;
        this.max = max;
    }

    /** The largest temperature of this range. */
    public double max() {
        return max;
    }

    /** {@code t}, or an {@link IllegalArgumentException} that says which temperatures this range takes. */
    public double check(double t) {
        boolean ok = Double.isFinite(t) && (zero ? t >= 0 : t > 0) && t <= max;
        if (!ok) throw new IllegalArgumentException(problem(t));
        return t;
    }

    String problem(double t) {
        if (!Double.isFinite(t) || !(zero ? t >= 0 : t > 0)) {
            return "temperature must be a finite number " + (zero ? ">= 0" : "> 0") + ", got " + t;
        }
        return "temperature " + t + " is too large: latents are drawn with T times the prior's spread, so useful "
                + "temperatures are 0.5 to 1 (at most " + (int) max + ")";
    }
}
