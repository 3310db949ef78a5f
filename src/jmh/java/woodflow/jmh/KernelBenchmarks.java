package woodflow.jmh;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import woodflow.core.Init;
import woodflow.core.Tensors;
import woodflow.coupling.RationalQuadraticSpline;
import woodflow.layers.EmergingConv;
import woodflow.layers.LowRank;
import woodflow.layers.MeWoodburyTransform;
import woodflow.layers.WoodburyTransform;

import java.util.concurrent.TimeUnit;

import static woodflow.core.Tensors.s;

/**
 * JMH benchmarks of woodflow's hot kernels: the Woodbury and ME-Woodbury transforms both ways, the d x d solves,
 * the emerging convolution's serial inverse and the rational-quadratic spline. Run with
 * {@code mvn -q -Pjmh -DskipTests package && java -cp 'target/woodflow.jar:target/lib/*' org.openjdk.jmh.Main}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xss8m"})
public class KernelBenchmarks {
    @Param({"32", "64"})
    int size;

    @Param({"12"})
    int channels;

    private WoodburyTransform woodbury;
    private MeWoodburyTransform meWoodbury;
    private EmergingConv emerging;
    private RationalQuadraticSpline spline;
    private Tensor x;
    private Tensor yWoodbury;
    private Tensor yEmerging;
    private Tensor splineIn;
    private Tensor splineTheta;
    private Tensor u;
    private Tensor v;
    private NoGradGuard noGrad;

    @Setup(Level.Trial)
    public void setUp() {
        Tensors.load();
        noGrad = new NoGradGuard();
        torch.manual_seed(1);
        woodbury = new WoodburyTransform(channels, size, size, 16, 16, Init.float32());
        meWoodbury = new MeWoodburyTransform(channels, size, size, 16, 16, 16, Init.float32());
        emerging = new EmergingConv(channels, 3, Init.float32());
        spline = new RationalQuadraticSpline(4, 3.0);
        x = Tensors.keep(torch.randn(new long[] {4, channels, size, size}));
        yWoodbury = Tensors.keep(woodbury.forward(x).out());
        yEmerging = Tensors.keep(emerging.forward(x).out());
        splineIn = Tensors.keep(torch.randn(new long[] {4, channels / 2, size, size}));
        splineTheta = Tensors.keep(torch.randn(new long[] {4, channels / 2 * spline.parametersPerElement(), size,
                size}).mul(s(0.5)));
        u = Tensors.keep(torch.randn(new long[] {size * size, 16}).mul(s(0.01)));
        v = Tensors.keep(torch.randn(new long[] {16, size * size}).mul(s(0.01)));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        noGrad.close();
    }

    @Benchmark
    public double woodburyForward() {
        try (PointerScope scope = new PointerScope()) {
            return woodbury.forward(x).out().sum().item_double();
        }
    }

    @Benchmark
    public double woodburyInverse() {
        try (PointerScope scope = new PointerScope()) {
            return woodbury.inverse(yWoodbury).out().sum().item_double();
        }
    }

    @Benchmark
    public double meWoodburyInverse() {
        try (PointerScope scope = new PointerScope()) {
            return meWoodbury.inverse(yWoodbury).out().sum().item_double();
        }
    }

    /** The d x d work of a factor: I + V U, its log|det| and its inverse, in float64. */
    @Benchmark
    public double smallSolves() {
        try (PointerScope scope = new PointerScope()) {
            Tensor cap = LowRank.capacitance(u, v);
            return LowRank.logAbsDet(cap).item_double() + LowRank.inverse(cap).sum().item_double();
        }
    }

    @Benchmark
    public double emergingInverse() {
        try (PointerScope scope = new PointerScope()) {
            return emerging.inverse(yEmerging).out().sum().item_double();
        }
    }

    @Benchmark
    public double splineForward() {
        try (PointerScope scope = new PointerScope()) {
            return spline.forward(splineIn, splineTheta).out().sum().item_double();
        }
    }

    @Benchmark
    public double splineInverse() {
        try (PointerScope scope = new PointerScope()) {
            return spline.inverse(splineIn, splineTheta).out().sum().item_double();
        }
    }
}
