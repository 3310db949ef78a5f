package woodflow.data;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ResamplerTest {
    @Test
    void halvingAveragesTwoByTwoBlocks() {
        float[] src = new float[16];
        for (int i = 0; i < 16; i++) src[i] = i * 10;
        byte[] out = Resampler.resize(src, 1, 4, 2);
        // block (0,0): 0, 10, 40, 50 -> 25
        assertThat(out[0] & 255).isEqualTo(25);
        assertThat(out[3] & 255).isEqualTo((100 + 110 + 140 + 150) / 4);
    }

    @Test
    void nonIntegerRatioUsesFractionalCoverage() {
        // 3 -> 2: output 0 covers input 0 fully and half of input 1 (weights 2/3, 1/3)
        float[] src = {0, 90, 180, 0, 90, 180, 0, 90, 180};
        byte[] out = Resampler.resize(src, 1, 3, 2);
        assertThat(out[0] & 255).isEqualTo(30);
        assertThat(out[1] & 255).isEqualTo(150);
    }

    @Test
    void enlargingInterpolatesBilinearlyAndKeepsEdges() {
        float[] src = {0, 100, 0, 100};
        byte[] out = Resampler.resize(src, 1, 2, 4);
        // centres at -0.25, 0.25, 0.75, 1.25 in input pixels -> 0 (clamped), 25, 75, 100 (clamped)
        assertThat(new int[] {out[0] & 255, out[1] & 255, out[2] & 255, out[3] & 255}).containsExactly(0, 25, 75, 100);
    }

    @Test
    void sameSizeIsTheIdentityAndValuesAreClamped() {
        float[] src = {-3, 12.4f, 254.6f, 300};
        byte[] out = Resampler.resize(src, 1, 2, 2);
        assertThat(new int[] {out[0] & 255, out[1] & 255, out[2] & 255, out[3] & 255}).containsExactly(0, 12, 255, 255);
    }
}
