package woodflow.coupling;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import woodflow.core.FlowLayer;
import woodflow.core.FlowResult;
import woodflow.core.Init;
import woodflow.core.Tensors;

import java.util.ArrayList;
import java.util.List;

/**
 * One masked-convolution affine coupling of a MaCow unit (Ma, Kong, Zhang &amp; Hovy, 2019): the whole input is
 * transformed, row by row, with scale and shift computed from the rows already visited in one direction.
 *
 * <pre>
 *   in the canonical frame (direction ABOVE; the others flip and/or transpose the image into it):
 *   theta = MaskedConvNet(x)          row i of theta sees rows < i of x
 *   shift = theta[:, 0::2], scale = sigmoid(theta[:, 1::2] + 2)
 *   forward:  y = (x + shift) * scale                  log-det = sum(log scale)
 *   inverse:  for i = 0 .. H-1: theta_i = net(x_0 .. x_{i-1}), x_i = y_i / scale_i - shift_i
 * </pre>
 * The Jacobian is triangular in the order rows are visited (block diagonal within a row, with the scales on the
 * diagonal). The inverse recomputes the network once per row, on a crop holding only the rows its output row can see,
 * so sampling costs H network evaluations of a few rows each: serial, as in the original.
 */
public final class MaskedAffineCoupling extends FlowLayer {
    /** The rows a coupling conditions on: from above (rows &lt; i), below, left (columns &lt; j) or right. */
    public enum Direction {
        ABOVE, BELOW, LEFT, RIGHT;

        /** Image to the canonical frame, in which the coupling runs from the top row down. */
        Tensor toCanonical(Tensor x) {
            return switch (this) {
                case ABOVE -> x;
                case BELOW -> x.flip(2);
                case LEFT -> x.transpose(2, 3);
                case RIGHT -> x.transpose(2, 3).flip(2);
            };
        }

        Tensor fromCanonical(Tensor x) {
            return switch (this) {
                case ABOVE -> x;
                case BELOW -> x.flip(2);
                case LEFT -> x.transpose(2, 3);
                case RIGHT -> x.flip(2).transpose(2, 3);
            };
        }
    }

    private final Direction direction;
    private final int channels;
    private final MaskedConvNet net;
    private final AffineTransform affine = new AffineTransform();

    public MaskedAffineCoupling(Direction direction, int channels, int hidden, int kernelWidth, double logScaleFactor,
                                Init init) {
        if (channels <= 0) throw new IllegalArgumentException("MaCow coupling needs a positive channel count, got "
                + channels);
        this.direction = direction;
        this.channels = channels;
        net = child("net", new MaskedConvNet(channels, hidden, 2 * channels, kernelWidth, logScaleFactor, init));
    }

    public Direction direction() {
        return direction;
    }

    private Tensor theta(Tensor x) {
        return precision().conditioner(x, () -> net.apply(x));
    }

    private void checkInput(Tensor x) {
        if (x.dim() != 4 || x.size(1) != channels) {
            throw new IllegalArgumentException("MaCow coupling over " + channels + " channels takes (B, " + channels
                    + ", H, W), got " + Tensors.shapeString(x));
        }
    }

    @Override
    public FlowResult forward(Tensor x) {
        checkInput(x);
        Tensor xc = direction.toCanonical(x);
        FlowResult r = affine.forward(xc, theta(xc));
        return new FlowResult(direction.fromCanonical(r.out()), r.logDet());
    }

    @Override
    public FlowResult inverse(Tensor y) {
        checkInput(y);
        Tensor yc = direction.toCanonical(y);
        long rows = yc.size(2);
        int seen = net.receptiveRows();
        List<Tensor> done = new ArrayList<>();
        Tensor unknownRow = torch.zeros_like(yc.narrow(2, 0, 1));
        Tensor logDet = null;
        for (int i = 0; i < rows; i++) {
            // Row i's parameters depend only on the `seen` rows above it: run the net on those plus a placeholder
            // for row i itself (which the net cannot see), and keep its last row.
            int start = Math.max(0, i - seen);
            List<Tensor> crop = new ArrayList<>(done.subList(start, i));
            crop.add(unknownRow);
            Tensor theta = theta(Tensors.cat(crop, 2)).narrow(2, i - start, 1);
            FlowResult r = affine.inverse(yc.narrow(2, i, 1), theta);
            done.add(r.out());
            logDet = logDet == null ? r.logDet() : logDet.add(r.logDet());
        }
        return new FlowResult(direction.fromCanonical(Tensors.cat(done, 2)), logDet);
    }
}
