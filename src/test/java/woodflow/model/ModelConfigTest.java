package woodflow.model;

import org.junit.jupiter.api.Test;
import woodflow.core.Init;
import woodflow.coupling.Coupling;
import woodflow.coupling.GlowConditioner;
import woodflow.layers.LowRankFactor;
import woodflow.layers.Split;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Impossible configurations fail at construction with a message that names the problem. */
class ModelConfigTest {
    private static ModelConfig base() {
        return ModelConfig.of(3, 32, 32, 3, 2, 16, Permutation.WOODBURY);
    }

    @Test
    void imageSideNotDivisibleByTwoToTheL() {
        assertThatThrownBy(() -> new MultiScaleFlow(base().withShape(3, 30, 32), Init.float32()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("image height 30 is not divisible by 2^L = 8 (L = 3 levels)");
        assertThatThrownBy(() -> base().withShape(3, 32, 36).validate())
                .hasMessageContaining("image width 36 is not divisible by 2^L = 8");
    }

    @Test
    void oddChannelCountForACoupling() {
        assertThatThrownBy(() -> Coupling.checkChannels(3))
                .hasMessageContaining("even channel count").hasMessageContaining("got 3");
        assertThatThrownBy(() -> base().coupling().create(base(), 5, Init.float32()))
                .hasMessageContaining("even channel count");
        assertThatThrownBy(() -> new Split(5, Init.float32())).hasMessageContaining("even channel count, got 5");
    }

    @Test
    void latentDimensionListShorterThanL() {
        ModelConfig c = base().withLatentDims(new int[] {8, 8}, new int[] {16, 16, 8}, null, null);
        assertThatThrownBy(c::validate)
                .hasMessageContaining("latent dimension list d_c has 2 entries but the model has L = 3 levels");
        ModelConfig me = base().withPermutation(Permutation.ME_WOODBURY)
                .withLatentDims(new int[] {8, 8, 16}, null, new int[] {16}, new int[] {16, 16, 8});
        assertThatThrownBy(me::validate).hasMessageContaining("d_h has 1 entries");
    }

    @Test
    void nonPositiveSizes() {
        assertThatThrownBy(() -> base().withShape(0, 32, 32).validate()).hasMessageContaining("channels must be positive");
        assertThatThrownBy(() -> base().withSteps(0).validate()).hasMessageContaining("steps (K) must be at least 1");
        assertThatThrownBy(() -> base().withHidden(-4).validate()).hasMessageContaining("coupling channels");
        assertThatThrownBy(() -> ModelConfig.of(3, 32, 32, 0, 2, 16, Permutation.WOODBURY).validate())
                .hasMessageContaining("levels (L) must be at least 1");
        assertThatThrownBy(() -> base().withLatentDims(new int[] {8, 0, 8}, null, null, null).validate())
                .hasMessageContaining("d_c[1] must be positive");
        assertThatThrownBy(() -> new LowRankFactor(16, 0, Init.float32()))
                .hasMessageContaining("latent dimension must be positive");
        assertThatThrownBy(() -> new GlowConditioner(2, 0, 4, 1, Init.float32()))
                .hasMessageContaining("coupling channels must be positive");
    }

    @Test
    void unknownLayerNames() {
        assertThatThrownBy(() -> Permutation.parse("fft")).hasMessageContaining("unknown permutation 'fft'");
        assertThatThrownBy(() -> CouplingType.parse("quadratic")).hasMessageContaining("unknown coupling 'quadratic'");
        assertThatThrownBy(() -> Permutation.parse("woodbery")).hasMessageContaining("did you mean woodbury?");
        // as configs and checkpoints spell them, in any case
        assertThat(Permutation.parse("ME-Woodbury")).isEqualTo(Permutation.ME_WOODBURY);
        assertThatThrownBy(() -> woodflow.train.RunConfig.fromJson("{\"model\": {\"permutation\": \"me-woodbary\"}}"))
                .hasMessageContaining("model.permutation: unknown permutation 'me-woodbary'")
                .hasMessageContaining("did you mean me-woodbury?");
    }

    @Test
    void choicesKeepTheirNamesInConfigs() {
        String json = "{\"permutation\":\"me-woodbury\",\"coupling\":\"spline\"}";
        woodflow.train.RunConfig c = woodflow.train.RunConfig.fromJson("{\"model\": " + json + ", \"train\": "
                + "{\"precision\": \"bf16-mixed\", \"backprop\": \"invertible\"}, \"data\": {\"kind\": "
                + "\"fashion-mnist\", \"on_bad_image\": \"skip\"}}");
        assertThat(c.model().permutation()).isEqualTo(Permutation.ME_WOODBURY);
        assertThat(c.model().coupling()).isEqualTo(CouplingType.SPLINE);
        assertThat(c.toJson()).contains("\"permutation\" : \"me-woodbury\"").contains("\"coupling\" : \"spline\"")
                .contains("\"precision\" : \"bf16-mixed\"").contains("\"backprop\" : \"invertible\"")
                .contains("\"kind\" : \"fashion-mnist\"").contains("\"on_bad_image\" : \"skip\"");
        assertThat(woodflow.train.RunConfig.fromJson(c.toJson()).toJson()).isEqualTo(c.toJson());
    }

    @Test
    void theRetiredSampleEveryStillLoadsAndIsNotWrittenBack() {
        woodflow.train.RunConfig old = woodflow.train.RunConfig.fromJson("{\"train\": {\"sample_every\": 500}}");
        assertThat(old.toJson()).doesNotContain("sample_every");
        woodflow.data.DataConfig d = woodflow.data.DataConfig.embedded().withLimits(5, 6).withCache("c");
        assertThat(d.trainLimit()).isEqualTo(5);
        assertThat(d.testLimit()).isEqualTo(6);
        assertThat(d.cache()).isEqualTo("c");
        assertThat(d.kind()).isEqualTo(woodflow.data.DataKind.EMBEDDED);
    }

    @Test
    void oversizedLatentDimensionsGetOneNoteWithTheTrimmedLists() {
        ModelConfig fmnist = woodflow.train.Presets.load("fmnist-woodbury").model();
        assertThat(fmnist.notes()).containsExactly("latent dimensions above what their level mixes (d_c[0] = 16 > 4 "
                + "channels, d_c[1] = 16 > 8 channels) add parameters but no expressiveness, as in the paper's code; "
                + "for a leaner model set d_c: [4, 8]");
        ModelConfig trimmed = fmnist.withLatentDims(new int[] {4, 8}, fmnist.dS(), fmnist.dH(), fmnist.dW());
        assertThat(trimmed.notes()).isEmpty();
        assertThat(woodflow.train.Presets.load("cifar10-me-woodbury").model().notes()).singleElement().asString()
                .contains("d_h[1] = 16 > 8 rows").contains("set d_h: [16, 8, 4], d_w: [16, 8, 4]")
                .doesNotContain("d_c");
        assertThat(woodflow.train.Presets.load("demo").model().notes()).isEmpty();
        assertThat(woodflow.train.Presets.load("fmnist-glow").model().notes()).as("no Woodbury layer").isEmpty();
    }
}
