package woodflow.model;

import woodflow.core.Init;
import woodflow.core.Sequential;
import woodflow.layers.ActNorm;

/**
 * One step of flow: ActNorm, then the permutation layer, then the coupling (Glow's step, Kingma &amp; Dhariwal 2018,
 * with the 1x1 convolution replaceable by a Woodbury transformation as in Lu &amp; Huang 2020).
 */
public final class FlowStep extends Sequential {
    public FlowStep(ModelConfig cfg, int level, int c, int h, int w, Init init) {
        add("actnorm", new ActNorm(c, init));
        add("permutation", cfg.permutation().create(cfg, level, c, h, w, init));
        add("coupling", cfg.coupling().create(cfg, c, init));
    }
}
