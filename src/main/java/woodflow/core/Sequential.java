package woodflow.core;

import org.bytedeco.pytorch.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * Transforms composed in list order: forward applies them first to last and sums their log-dets; inverse applies
 * their inverses last to first. Each part runs in its own scope ({@link Tensors#scopedFlow}), so its temporaries are
 * freed when it returns rather than at the end of the training step.
 */
public class Sequential extends FlowLayer {
    private final List<FlowLayer> parts = new ArrayList<>();

    public <L extends FlowLayer> L add(String name, L t) {
        child(name, t);
        parts.add(t);
        return t;
    }

    public List<FlowLayer> parts() {
        return parts;
    }

    @Override
    public FlowResult forward(Tensor x) {
        Tensor logDet = null;
        for (Transform t : parts) {
            Tensor in = x;
            FlowResult r = Tensors.scopedFlow(() -> t.forward(in));
            x = r.out();
            logDet = logDet == null ? r.logDet() : logDet.add(r.logDet());
        }
        return new FlowResult(x, logDet == null ? x.new_zeros(x.size(0)) : logDet);
    }

    @Override
    public FlowResult inverse(Tensor y) {
        Tensor logDet = null;
        for (int i = parts.size() - 1; i >= 0; i--) {
            Transform t = parts.get(i);
            Tensor in = y;
            FlowResult r = Tensors.scopedFlow(() -> t.inverse(in));
            y = r.out();
            logDet = logDet == null ? r.logDet() : logDet.add(r.logDet());
        }
        return new FlowResult(y, logDet == null ? y.new_zeros(y.size(0)) : logDet);
    }
}
