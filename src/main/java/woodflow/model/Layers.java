package woodflow.model;

import woodflow.core.Init;
import woodflow.core.Module;
import woodflow.core.Transform;

/**
 * Builds the permutation layer and the coupling of a step from a {@link ModelConfig}; the choices themselves
 * ({@link Permutation}, {@link CouplingType}) own their factories.
 */
public final class Layers {
    private Layers() {}

    public static <M extends Module & Transform> M permutation(ModelConfig cfg, int level, int c, int h, int w,
                                                              Init init) {
        return cfg.permutation().create(cfg, level, c, h, w, init);
    }

    public static <M extends Module & Transform> M coupling(ModelConfig cfg, int level, int c, int h, int w,
                                                           Init init) {
        return cfg.coupling().create(cfg, c, init);
    }
}
