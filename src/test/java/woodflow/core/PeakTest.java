package woodflow.core;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The theoretical peak from a CPU's ISA (cores x clock x FLOP per cycle), the clock read from a model name, and how
 * the measured rates are summarised: no timing is asserted (the measurement itself runs in BenchSmokeTest).
 */
class PeakTest {
    private static MachineInfo cpu(String name, int family, List<String> isa) {
        return new MachineInfo(name, family, 1, isa, isa.contains("amx_tile"), 2, 2, "2.10.0", "oneDNN v3.7.1", "AVX2");
    }

    @Test
    void theTheoreticalPeakFollowsTheIsa() {
        Peak.Theoretical zen3 = Peak.theoretical(cpu("AMD EPYC 7B13 @ 2.45GHz", 25, List.of("avx2", "fma")));
        assertThat(zen3.ghz()).isEqualTo(2.45);
        assertThat(zen3.clockSource()).contains("model name");
        assertThat(zen3.fp32Gflops()).isCloseTo(2 * 2.45 * 32, within(1e-9));
        assertThat(zen3.bf16PerCycle()).isZero();
        // Zen 4 runs AVX-512 on 256-bit units; its bf16 dot products double the float32 rate
        Peak.Theoretical zen4 = Peak.theoretical(cpu("AMD EPYC 9B14 @ 2.60GHz", 25,
                List.of("avx2", "fma", "avx512f", "avx512_bf16")));
        assertThat(zen4.fp32PerCycle()).isEqualTo(32);
        assertThat(zen4.bf16PerCycle()).isEqualTo(64);
        Peak.Theoretical zen5 = Peak.theoretical(cpu("AMD EPYC 9B45 @ 2.00GHz", 26,
                List.of("avx2", "fma", "avx512f", "avx512_bf16")));
        assertThat(zen5.fp32PerCycle()).isEqualTo(64);
        // AMX: 1024 bf16 operations per cycle and core, whatever the vector units do
        Peak.Theoretical spr = Peak.theoretical(cpu("Intel(R) Xeon(R) Platinum 8480 @ 2.00GHz", 6,
                List.of("avx2", "fma", "avx512f", "avx512_bf16", "amx_tile", "amx_bf16")));
        assertThat(spr.fp32Gflops()).isCloseTo(2 * 2.0 * 64, within(1e-9));
        assertThat(spr.bf16Gflops()).isCloseTo(2 * 2.0 * 1024, within(1e-9));
        assertThat(spr.describe()).contains("fp32 256 GFLOP/s (2 cores x 2.00 GHz x 64 FLOP/cycle")
                .contains("bf16 4096 GFLOP/s (x 1024 FLOP/cycle: AMX");
        assertThat(Peak.theoretical(cpu("Some CPU @ 3.00GHz", 6, List.of())).describe())
                .isEqualTo("not known for this CPU's ISA");
    }

    @Test
    void everyShareIsTakenAgainstTheBestRate() {
        Peak.Theoretical t = Peak.theoretical(cpu("X @ 1.00GHz", 6, List.of("avx2", "fma")));
        Peak p = new Peak(List.of(new Peak.Rate("matmul 512x512x512", "fp32", 100, 90, 7, "2 threads"),
                new Peak.Rate("conv 1x1 64->64 at 8x8, batch 32", "fp32", 120, 50, 7, "2 threads"),
                new Peak.Rate("matmul 512x512x512", "bf16", 400, 390, 7, "2 threads")), t);
        assertThat(p.best().bestGflops()).isEqualTo(400);
        assertThat(p.best("fp32").kernel()).startsWith("conv");
        assertThat(p.best("matmul", "fp32").bestGflops()).isEqualTo(100);
        assertThat(p.best("fp16")).isNull();
        assertThat(p.share(200)).isEqualTo(0.5);
        // a best more than 1.5x the median: the host was busy while the rate was measured
        assertThat(p.rates().get(1).wide()).isTrue();
        assertThat(p.rates().get(1).describe()).contains("the host was busy");
        assertThat(p.rates().get(0).wide()).isFalse();
        assertThat(p.lines().get(0)).startsWith("peak:     measured 400 GFLOP/s (bf16 matmul 512x512x512;");
        assertThat(p.lines().get(p.lines().size() - 2)).contains("theoretical: fp32 64.0 GFLOP/s");
        // 120 GFLOP/s beats 2 cores x 1.00 GHz x 32: the rate says the cores ran at 1.88 GHz or more (a boost clock),
        // as on an AMD EPYC Zen 5 whose /proc/cpuinfo gives 2.10 GHz and whose bf16 matmul reached 1,241 GFLOP/s
        assertThat(p.lines().get(p.lines().size() - 1)).contains("above the theoretical peak: fp32 measured 120 "
                + "GFLOP/s, above its theoretical 64.0: at 32 FLOP/cycle the cores ran at 1.88 GHz or more");
        Peak within = new Peak(List.of(new Peak.Rate("matmul 512x512x512", "fp32", 60, 59, 7, "2 threads")), t);
        assertThat(within.aboveTheoretical()).isNull();
        assertThat(within.lines().get(within.lines().size() - 1)).contains("theoretical:");
    }
}
