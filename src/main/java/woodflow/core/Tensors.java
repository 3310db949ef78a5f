package woodflow.core;

import org.bytedeco.javacpp.PointerScope;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.Arrays;
import java.util.List;

/**
 * Small static helpers for the wordiest libtorch calls of the JavaCPP presets. Not a tensor library: everything
 * here is one or two engine calls with a shorter name.
 */
public final class Tensors {
    private static volatile boolean loaded;

    private Tensors() {}

    /** Loads libtorch once (about 1 s after the first extraction) and sets its thread pools. */
    public static synchronized void load() {
        if (loaded) return;
        Loader.load(torch.class);
        int threads = Integer.getInteger("woodflow.threads", Runtime.getRuntime().availableProcessors());
        torch.set_num_threads(threads);
        // libtorch's small LAPACK calls (the d x d slogdet/inverse, 1x1 and periodic solves) go to OpenBLAS, whose
        // own thread pool would compete with libtorch's for the same cores: a batched 8x8 slogdet backward took
        // 75-145 ms with OpenBLAS's default threads on a busy 2-core machine, 0.15 ms with one.
        org.bytedeco.openblas.presets.openblas_nolapack.blas_set_num_threads(Integer.getInteger("woodflow.blasThreads", 1));
        // one inter-op thread: the step's ops run in sequence, and more threads only compete for the cores
        try {
            torch.set_num_interop_threads(1);
        } catch (RuntimeException e) {
            // already set (another library initialised the pool first): keep its setting
        }
        // The autocast cache keeps bf16 copies of weights across calls; ours change every step, so never cache.
        torch.set_autocast_cache_enabled(false);
        // NNPACK is never the convolution engine we want (oneDNN is faster where it applies), and on CPUs it does
        // not know its initialisation prints "Could not initialize NNPACK! Reason: Unsupported hardware." in every
        // process: switched off, libtorch never tries to initialise it.
        torch.globalContext().setUserEnabledNNPACK(false);
        loaded = true;
    }

    /** The number of threads libtorch's operations use in this process (libtorch loaded first). */
    public static int threads() {
        load();
        return torch.get_num_threads();
    }

    /** Sets the number of threads libtorch's operations use (libtorch loaded first); returns the previous number. */
    public static int threads(int n) {
        load();
        int was = torch.get_num_threads();
        torch.set_num_threads(n);
        return was;
    }

    /**
     * The dtype of a tensor as the canonical enum constant. The presets' {@code scalar_type()} returns a fresh enum
     * object that is not {@code ==} to the constants (and breaks {@code switch}), so always compare through this.
     */
    public static ScalarType dtype(Tensor t) {
        return canonical(t.scalar_type());
    }

    public static ScalarType canonical(ScalarType t) {
        for (ScalarType c : ScalarType.values()) if (c.value == t.value) return c;
        throw new IllegalArgumentException("unknown dtype " + t);
    }

    /**
     * An owning handle to {@code t}. The elements of the presets' tuple results ({@code T_TensorTensor_T.get0()}
     * and friends) point into the tuple and dangle once it is freed; wrap them with this before keeping them.
     */
    public static Tensor own(Tensor t) {
        return new Tensor(t);
    }

    /**
     * Runs {@code block} in a {@link org.bytedeco.javacpp.PointerScope} of its own and returns its result in the
     * caller's scope. A scope holds every tensor created in it until it closes, so without this all of a step's
     * temporaries (convolution outputs, casts, padded copies) would stay alive to the end of the training step, or
     * of a whole no-grad pass; with it libtorch frees each one as soon as autograd no longer needs it.
     */
    public static Tensor scoped(java.util.function.Supplier<Tensor> block) {
        Tensor r;
        try (org.bytedeco.javacpp.PointerScope inner = new org.bytedeco.javacpp.PointerScope()) {
            r = block.get();
            r.retainReference();
        }
        return handOut(r);
    }

    /** {@link #scoped(java.util.function.Supplier)} for a transform's output and log-det. */
    public static FlowResult scopedFlow(java.util.function.Supplier<FlowResult> block) {
        FlowResult r;
        try (org.bytedeco.javacpp.PointerScope inner = new org.bytedeco.javacpp.PointerScope()) {
            r = block.get();
            r.out().retainReference();
            r.logDet().retainReference();
        }
        return new FlowResult(handOut(r.out()), handOut(r.logDet()));
    }

    /**
     * A new handle, owned by the current scope, to a tensor retained across a closed inner scope; the retained
     * handle is released (whether the inner scope or an outer one created it).
     */
    static Tensor handOut(Tensor retained) {
        Tensor out = new Tensor(retained);
        retained.releaseReference();
        return out;
    }

    public static Scalar s(double v) {
        return new Scalar(v);
    }

    public static TensorOptions options(ScalarType dtype) {
        return new TensorOptions().dtype(new ScalarTypeOptional(dtype));
    }

    /** Options with the dtype and device of {@code like}. */
    public static TensorOptions optionsLike(Tensor like) {
        return new TensorOptions().dtype(new ScalarTypeOptional(dtype(like)))
                .device(new org.bytedeco.pytorch.DeviceOptional(like.device()));
    }

    public static Tensor cat(List<Tensor> parts, long dim) {
        return torch.cat(new TensorVector(parts.toArray(new Tensor[0])), dim);
    }

    public static Tensor cat(long dim, Tensor... parts) {
        return torch.cat(new TensorVector(parts), dim);
    }

    /** {@code x[:, start::step]} along {@code dim}. */
    public static Tensor strided(Tensor x, long dim, long start, long step) {
        return x.slice(dim, new LongOptional(start), new LongOptional(x.size(dim)), step);
    }

    public static long[] shape(Tensor x) {
        long[] s = new long[(int) x.dim()];
        for (int i = 0; i < s.length; i++) s[i] = x.size(i);
        return s;
    }

    public static String shapeString(Tensor x) {
        return Arrays.toString(shape(x));
    }

    /** Per-sample sum over every axis but the first: shape (B). */
    public static Tensor sumPerSample(Tensor x) {
        return x.reshape(x.size(0), -1).sum(1);
    }

    public static double item(Tensor x) {
        return x.item_double();
    }

    /** Copies a tensor to a Java double array (any float dtype, any device). */
    public static double[] toDoubles(Tensor x) {
        Tensor c = x.detach().to(ScalarType.Double).contiguous().cpu();
        double[] out = new double[(int) c.numel()];
        new DoublePointer(c.data_ptr()).capacity(out.length).get(out);
        return out;
    }

    public static float[] toFloats(Tensor x) {
        Tensor c = x.detach().to(ScalarType.Float).contiguous().cpu();
        float[] out = new float[(int) c.numel()];
        new FloatPointer(c.data_ptr()).capacity(out.length).get(out);
        return out;
    }

    public static byte[] toBytes(Tensor x) {
        Tensor c = x.detach().contiguous().cpu();
        long n = c.numel() * c.element_size();
        byte[] out = new byte[Math.toIntExact(n)];
        new BytePointer(c.data_ptr()).capacity(n).get(out);
        return out;
    }

    /** A new tensor (owning its memory) holding a copy of {@code data} with the given shape. */
    public static Tensor fromDoubles(double[] data, long... shape) {
        DoublePointer p = new DoublePointer(data);
        Tensor t = torch.from_blob(p, shape, options(ScalarType.Double)).clone();
        p.close();
        return t;
    }

    public static Tensor fromFloats(float[] data, long... shape) {
        FloatPointer p = new FloatPointer(data);
        Tensor t = torch.from_blob(p, shape, options(ScalarType.Float)).clone();
        p.close();
        return t;
    }

    /** A tensor of the given dtype from raw little-endian bytes. */
    public static Tensor fromBytes(byte[] data, ScalarType dtype, long... shape) {
        BytePointer p = new BytePointer(data);
        Tensor t = torch.from_blob(p, shape, options(dtype)).clone();
        p.close();
        return t;
    }

    /**
     * Keeps a tensor alive beyond the innermost {@link org.bytedeco.javacpp.PointerScope}: used for parameters,
     * optimiser state and caches, which live across steps.
     */
    public static Tensor keep(Tensor t) {
        t.retainReference();
        return t;
    }

    /** Releases a tensor previously passed to {@link #keep}. */
    public static void release(Pointer t) {
        if (t != null) t.releaseReference();
    }

    public static boolean allFinite(Tensor x) {
        try (PointerScope scope = new PointerScope()) { // the mask (one byte per element) freed at once
            return x.isfinite().all().item_bool();
        }
    }
}
