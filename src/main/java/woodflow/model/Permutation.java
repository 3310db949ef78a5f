package woodflow.model;

import com.fasterxml.jackson.annotation.JsonCreator;
import woodflow.core.Choice;
import woodflow.core.Choices;
import woodflow.core.FlowLayer;
import woodflow.core.Init;
import woodflow.layers.Conv1x1;
import woodflow.layers.EmergingConv;
import woodflow.layers.MeWoodburyTransform;
import woodflow.layers.PeriodicConv;
import woodflow.layers.Reverse;
import woodflow.layers.WoodburyTransform;

import java.util.List;

/**
 * The permutation layer of a flow step (Lu &amp; Huang 2020, section 3 and appendix A.2): the mixing between
 * ActNorm and the coupling. Each constant builds its layer and counts the floating-point work of its forward pass
 * (the matrix products; table 1 of the paper gives the orders), and carries the name configs and the command line
 * use for it.
 */
public enum Permutation implements Choice {
    /** Channel then spatial Woodbury transformation, latent dimensions d_c and d_s per level. */
    WOODBURY {
        @Override
        FlowLayer build(ModelConfig cfg, int level, int c, int h, int w, Init init) {
            return new WoodburyTransform(c, h, w, cfg.dC()[level], cfg.dS()[level], init);
        }

        @Override
        public List<LatentDimension> latentDimensions() {
            return List.of(LatentDimension.D_C, LatentDimension.D_S);
        }

        @Override
        public double flops(ModelConfig m, int l, double c, int h, int w) {
            double n = (double) h * w;
            return 4 * m.dC()[l] * c * n + 4 * m.dS()[l] * c * n;
        }
    },
    /** Memory-efficient Woodbury: channel, width and height transforms, latent dimensions d_c, d_h, d_w. */
    ME_WOODBURY {
        @Override
        FlowLayer build(ModelConfig cfg, int level, int c, int h, int w, Init init) {
            return new MeWoodburyTransform(c, h, w, cfg.dC()[level], cfg.dH()[level], cfg.dW()[level], init);
        }

        @Override
        public List<LatentDimension> latentDimensions() {
            return List.of(LatentDimension.D_C, LatentDimension.D_H, LatentDimension.D_W);
        }

        @Override
        public double flops(ModelConfig m, int l, double c, int h, int w) {
            double n = (double) h * w;
            return 4 * m.dC()[l] * c * n + 4 * m.dW()[l] * c * n + 4 * m.dH()[l] * c * n;
        }
    },
    /** Glow's invertible 1x1 convolution. */
    CONV1X1 {
        @Override
        FlowLayer build(ModelConfig cfg, int level, int c, int h, int w, Init init) {
            return new Conv1x1(c, false, init);
        }

        @Override
        public double flops(ModelConfig m, int l, double c, int h, int w) {
            return 2 * c * c * h * w;
        }
    },
    /** The 1x1 convolution in its LU parametrisation. */
    CONV1X1_LU {
        @Override
        FlowLayer build(ModelConfig cfg, int level, int c, int h, int w, Init init) {
            return new Conv1x1(c, true, init);
        }

        @Override
        public double flops(ModelConfig m, int l, double c, int h, int w) {
            return 2 * c * c * h * w;
        }
    },
    /** Emerging convolution (Hoogeboom et al. 2019), after a 1x1 convolution. */
    EMERGING {
        @Override
        FlowLayer build(ModelConfig cfg, int level, int c, int h, int w, Init init) {
            return new EmergingConv(c, cfg.kernel(), init);
        }

        @Override
        public double flops(ModelConfig m, int l, double c, int h, int w) {
            double n = (double) h * w;
            return 2 * c * c * n + 2 * 2 * c * c * m.kernel() * m.kernel() * n;
        }
    },
    /** Periodic convolution, inverted per frequency (Finz et al. 2019; Hoogeboom et al. 2019). */
    PERIODIC {
        @Override
        FlowLayer build(ModelConfig cfg, int level, int c, int h, int w, Init init) {
            return new PeriodicConv(c, cfg.kernel(), init);
        }

        @Override
        public double flops(ModelConfig m, int l, double c, int h, int w) {
            return 2 * c * c * m.kernel() * m.kernel() * h * w;
        }
    },
    /** Reversing the channels (RealNVP's fixed permutation): no parameters, no work counted. */
    REVERSE {
        @Override
        FlowLayer build(ModelConfig cfg, int level, int c, int h, int w, Init init) {
            return new Reverse(c);
        }

        @Override
        public double flops(ModelConfig m, int l, double c, int h, int w) {
            return 0;
        }
    };

    @Override
    public String toString() {
        return label();
    }

    /** The permutation named {@code name} (any case); an unknown name is an error that lists the known ones. */
    @JsonCreator
    public static Permutation parse(String name) {
        return Choices.parse(Permutation.class, name, "permutation");
    }

    /** The lists of latent dimensions this layer takes from the config: none but for the paper's low-rank layers. */
    public List<LatentDimension> latentDimensions() {
        return List.of();
    }

    /** Whether this is one of the paper's low-rank layers, whose latent dimensions apply. */
    public boolean isWoodbury() {
        return !latentDimensions().isEmpty();
    }

    /** The layer for level {@code level}, whose input has {@code c} channels of {@code h x w}. */
    public FlowLayer create(ModelConfig cfg, int level, int c, int h, int w, Init init) {
        return build(cfg, level, c, h, w, init);
    }

    abstract FlowLayer build(ModelConfig cfg, int level, int c, int h, int w, Init init);

    /** Floating-point operations of one forward pass of the layer at level {@code l}, per image. */
    public abstract double flops(ModelConfig m, int l, double c, int h, int w);
}
