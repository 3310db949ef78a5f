package woodflow.nn;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.MemoryFormat;
import org.bytedeco.pytorch.global.torch.ScalarType;
import woodflow.core.Tensors;

import java.util.Locale;

/**
 * What decides which kernel a convolution library picks for a call: the geometry, the batch, the dtype the call runs
 * in (after autocast) and the input's memory layout. The routing of {@link ConvRouting} is per {@link #geometry()}:
 * a kernel found wrong for one batch size is not trusted for another.
 */
public record ConvShape(long batch, long in, long out, long kh, long kw, long ph, long pw, long height, long width,
                        ScalarType dtype, boolean channelsLast) {

    public static ConvShape of(Tensor x, Tensor weight, long ph, long pw) {
        boolean cl = x.dim() == 4 && !x.is_contiguous() && x.is_contiguous(MemoryFormat.ChannelsLast);
        return new ConvShape(x.size(0), x.size(1), weight.size(0), weight.size(2), weight.size(3), ph, pw, x.size(2),
                x.size(3), runDtype(x), cl);
    }

    /** The dtype a conv2d of {@code x} computes in: the autocast dtype for a float32 input under autocast. */
    static ScalarType runDtype(Tensor x) {
        ScalarType t = Tensors.dtype(x);
        var dev = x.device().type();
        if (t == ScalarType.Float && torch.is_autocast_enabled(dev)) return Tensors.canonical(torch.get_autocast_dtype(dev));
        return t;
    }

    /** The shape without the batch size: the key of the routing table. */
    public ConvShape geometry() {
        return new ConvShape(0, in, out, kh, kw, ph, pw, height, width, dtype, channelsLast);
    }

    /** This convolution as the machine's peak measures it ({@link woodflow.core.Peak}). */
    public woodflow.core.Peak.Conv forPeak() {
        return new woodflow.core.Peak.Conv(batch, in, out, kh, kw, ph, pw, height, width, channelsLast);
    }

    public ConvShape withBatch(long b) {
        return new ConvShape(b, in, out, kh, kw, ph, pw, height, width, dtype, channelsLast);
    }

    /** e.g. {@code 3x3 conv 6->64 at 8x8, batch 32, fp32, channels-last}. */
    @Override
    public String toString() {
        String dt = switch (dtype) {
            case Float -> "fp32";
            case BFloat16 -> "bf16";
            case Double -> "fp64";
            case Half -> "fp16";
            default -> dtype.name();
        };
        String pad = ph == kh / 2 && pw == kw / 2 ? "" : String.format(Locale.ROOT, " padding %dx%d", ph, pw);
        return String.format(Locale.ROOT, "%dx%d conv %d->%d at %dx%d%s%s, %s, %s", kh, kw, in, out, height, width,
                pad, batch > 0 ? ", batch " + batch : "", dt, channelsLast ? "channels-last" : "NCHW");
    }
}
