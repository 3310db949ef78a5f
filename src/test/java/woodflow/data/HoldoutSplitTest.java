package woodflow.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class HoldoutSplitTest {
    @TempDir
    Path dir;

    /** The published SplitMix64 reference outputs (seed 0 and seed 1234567), so the generator is the specified one. */
    @Test
    void generatorMatchesReferenceOutputs() {
        SplitMix64 a = new SplitMix64(0);
        assertThat(new long[] {a.nextLong(), a.nextLong(), a.nextLong()})
                .containsExactly(0xe220a8397b1dcdafL, 0x6e789e6aa1b965f4L, 0x06c45d188009454fL);
        SplitMix64 b = new SplitMix64(1234567);
        assertThat(b.nextLong()).isEqualTo(0x599ed017fb08fc85L);
    }

    /**
     * Golden split and permutations, computed by an independent Python implementation of the documented algorithm
     * (stream seeding, rejection-sampled nextInt, Fisher-Yates): the split cannot drift with the JVM or the machine.
     */
    @Test
    void splitAndPermutationsArePinned() {
        HoldoutSplit s = HoldoutSplit.of(20, 5, 42);
        assertThat(s.test()).containsExactly(0, 3, 5, 13, 19);
        assertThat(s.train()).hasSize(15).doesNotContain(0, 3, 5, 13, 19).isSorted();
        assertThat(SplitMix64.of(9, 0).permutation(10)).containsExactly(7, 2, 3, 0, 1, 8, 4, 9, 6, 5);
        assertThat(SplitMix64.of(9, 1).permutation(10)).containsExactly(1, 7, 4, 9, 0, 6, 3, 2, 8, 5);
        assertThat(HoldoutSplit.of(20, 5, 43).test()).isNotEqualTo(s.test());
    }

    @Test
    void holdoutTooLargeOrNegative() {
        assertThatThrownBy(() -> HoldoutSplit.of(10, 10, 0))
                .hasMessageContaining("a hold-out of 10 test images leaves nothing to train on")
                .hasMessageContaining("set data.holdout below 10");
        assertThatThrownBy(() -> HoldoutSplit.of(10, -1, 0)).hasMessageContaining("must not be negative");
    }

    @Test
    void celebaHoldoutIsStableWrittenAndIndependentOfListingOrder() throws Exception {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < 12; i++) names.add(String.format("%05d.png", i));
        // created in reverse order, so the directory's own order differs from the sorted one
        for (int i = 11; i >= 0; i--) {
            TestFiles.write(TestFiles.solid(20, 16, i * 20, 0, 0), "png", dir.resolve("imgs").resolve(names.get(i)));
        }
        DataConfig cfg = DataConfig.of(DataKind.CELEBA, dir.resolve("imgs").toString()).withHoldout(3).withSeed(42);
        try (Splits s = DataSets.open(cfg, 3, 8)) {
            assertThat(s.train().size()).isEqualTo(9);
            assertThat(s.test().size()).isEqualTo(3);
            int[] expected = HoldoutSplit.of(12, 3, 42).test();
            assertThat(s.holdout()).containsExactly(names.get(expected[0]), names.get(expected[1]), names.get(expected[2]));
            // the held-out image k is the file of that name: its red value tells which
            assertThat(s.test().image(1)[0] & 255).isEqualTo(expected[1] * 20);
            Path list = dir.resolve("holdout.txt");
            s.writeHoldout(list);
            assertThat(Files.readAllLines(list)).isEqualTo(s.holdout());
        }
        try (Splits again = DataSets.open(cfg, 3, 8); Splits other = DataSets.open(cfg.withSeed(7), 3, 8)) {
            assertThat(again.holdout()).isEqualTo(Files.readAllLines(dir.resolve("holdout.txt")));
            assertThat(other.holdout()).isNotEqualTo(again.holdout());
        }
        assertThat(Arrays.stream(HoldoutSplit.of(12, 3, 42).train()).boxed().toList()).hasSize(9);
    }

    @Test
    void celebaDefaultHoldoutNeedsMoreThan3000Images() throws Exception {
        TestFiles.write(TestFiles.solid(8, 8, 1, 2, 3), "png", dir.resolve("a.png"));
        assertThatThrownBy(() -> DataSets.open(DataConfig.of(DataKind.CELEBA, dir.toString()), 3, 8))
                .hasMessageContaining("a hold-out of 3000 test images leaves nothing to train on");
    }
}
