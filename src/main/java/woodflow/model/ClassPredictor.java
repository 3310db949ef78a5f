package woodflow.model;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import woodflow.core.Init;
import woodflow.core.Module;

/**
 * The class-prediction head of a class-conditional model ({@code model.class_loss_weight}, Glow's {@code weight_y}):
 * the class is predicted from the top level's latent z (before its prior standardises it), and the cross-entropy in
 * bits, times the weight, is added to the training loss. It pushes the class into the latent, which the prior's
 * embedding alone leaves to the likelihood.
 * <pre>
 *   logits = W mean_{h,w}(z) + b,    W (K, C) and b (K) starting at 0
 *   bits_y = -sum_k y_k log softmax(logits)_k / ln 2      per sample (y one-hot, or soft labels)
 * </pre>
 */
final class ClassPredictor extends Module {
    private final Tensor weight;
    private final Tensor bias;

    ClassPredictor(int channels, int classes, Init init) {
        weight = param("weight", init.zeros(classes, channels));
        bias = param("bias", init.zeros(classes));
    }

    Tensor logits(Tensor z) {
        return torch.linear(z.mean(new long[] {2, 3}, false, new org.bytedeco.pytorch.ScalarTypeOptional()), weight,
                new TensorOptional(bias));
    }

    /** Per-sample cross-entropy in bits of predicting {@code labels} ((B, K) weights) from {@code z}. */
    Tensor bits(Tensor z, Tensor labels) {
        Tensor logp = torch.log_softmax(logits(z), 1);
        return logp.mul(labels).sum(new long[] {1}, false, new org.bytedeco.pytorch.ScalarTypeOptional())
                .mul(woodflow.core.Tensors.s(-1 / Math.log(2)));
    }
}
