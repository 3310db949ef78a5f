package woodflow.core;

import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Where and in which precision a module creates its parameters. Random draws come from libtorch's default
 * generator: seed it with {@code torch.manual_seed} before building a model for a reproducible initialisation.
 */
public record Init(ScalarType dtype, String device) {
    /** Float32 parameters on the CPU. */
    public static Init float32() {
        return float32("cpu");
    }

    /** Float32 parameters on {@code device} ("cpu", "cuda", "cuda:1"): the caller says where, nothing global does. */
    public static Init float32(String device) {
        return new Init(ScalarType.Float, device);
    }

    public static Init float64() {
        return new Init(ScalarType.Double, "cpu");
    }

    public Init {
        if (dtype != ScalarType.Float && dtype != ScalarType.Double) {
            throw new IllegalArgumentException("parameters must be float32 or float64, not " + dtype);
        }
    }

    public TensorOptions options() {
        Tensors.load();
        return new TensorOptions().dtype(new ScalarTypeOptional(dtype)).device(new DeviceOptional(new Device(device)));
    }

    public Tensor zeros(long... shape) {
        return torch.zeros(shape, options());
    }

    public Tensor ones(long... shape) {
        return torch.ones(shape, options());
    }

    public Tensor normal(double std, long... shape) {
        return torch.randn(shape, options()).mul(Tensors.s(std));
    }

    public Tensor eye(long n) {
        return torch.eye(n, options());
    }
}
