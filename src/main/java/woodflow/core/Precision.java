package woodflow.core;

import com.fasterxml.jackson.annotation.JsonCreator;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.DeviceType;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.function.Supplier;

/**
 * The precision of a model's conditioner networks ({@code train.precision}, {@code --precision}). In
 * {@code bf16-mixed} the coupling and prior networks run under bfloat16 autocast (about 5x faster convolutions on AMX
 * processors; on a CPU without bf16 dot products their convolutions run as emulated bf16, float32 kernels on
 * bf16-rounded operands: the same numbers, no faster than float32); the invertible path (ActNorm, permutation layers, the affine update, log-dets) stays in the
 * parameters' precision, since a coupling remains exactly invertible when its inverse recomputes the same network on
 * the same input.
 *
 * <p>A value, not a global: each model holds its own ({@link Module#precision(Precision)}), so two models (or two
 * ranks) in one process may run in different precisions.
 */
public enum Precision implements Choice {
    FP32, BF16_MIXED;

    @Override
    public String toString() {
        return label();
    }

    @JsonCreator
    public static Precision parse(String s) {
        return Choices.parse(Precision.class, s, "precision");
    }

    /**
     * Runs a conditioner network, under bfloat16 autocast in mixed precision, and returns its output in the dtype of
     * {@code like} (the invertible path's dtype). Float64 inputs never autocast, so tests stay exact. The autocast
     * state of the engine is restored on return, so nothing outlives the call.
     */
    public Tensor conditioner(Tensor like, Supplier<Tensor> network) {
        boolean on = this == BF16_MIXED && Tensors.dtype(like) == ScalarType.Float;
        if (!on) return network.get();
        DeviceType dev = like.device().type();
        boolean was = torch.is_autocast_enabled(dev);
        ScalarType wasType = torch.get_autocast_dtype(dev);
        // Autocast's cache of bf16 weight copies is per thread and on by default: on any thread but the one that
        // loaded the engine (a batch half's, a server's worker) it would keep a parameter's bf16 copy across
        // optimiser steps and serve the stale weights. Off while the network runs, whichever thread runs it.
        boolean cached = torch.is_autocast_cache_enabled();
        if (cached) torch.set_autocast_cache_enabled(false);
        torch.set_autocast_enabled(dev, true);
        torch.set_autocast_dtype(dev, ScalarType.BFloat16);
        try {
            Tensor out = network.get();
            return Tensors.dtype(out) == Tensors.dtype(like) ? out : out.to(Tensors.dtype(like));
        } finally {
            torch.set_autocast_enabled(dev, was);
            torch.set_autocast_dtype(dev, wasType);
            if (cached) torch.set_autocast_cache_enabled(true);
        }
    }
}
