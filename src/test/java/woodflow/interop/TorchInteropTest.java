package woodflow.interop;

import woodflow.model.CouplingType;
import woodflow.model.Permutation;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import woodflow.cli.CliTest;
import woodflow.core.Init;
import woodflow.core.Tensors;
import woodflow.data.DataConfig;
import woodflow.io.SafeTensors;
import woodflow.model.ModelConfig;
import woodflow.model.MultiScaleFlow;
import woodflow.train.Checkpoint;
import woodflow.train.RunConfig;
import woodflow.train.TrainConfig;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static woodflow.cli.CliTest.cli;
import static woodflow.core.Tensors.s;

/**
 * woodflow and PyTorch on the same tiny models: a woodflow checkpoint opened with {@code python/woodflow_torch}, a
 * state_dict written by the paper's model class (the yardstick's {@code torch_glow.Glow}) brought in with
 * {@code woodflow import}, and {@code woodflow export} loaded back into that class with {@code strict=True}; the bits
 * per dimension agree within 1e-4 on the same dequantised inputs. Runs Debian's {@code /usr/bin/python3} with
 * {@code python3-torch}; skipped (with the reason) when it cannot import torch, or when the yardstick is not at
 * {@code ../shared/yardstick} (or {@code -Dwoodflow.yardstick=DIR}).
 */
class TorchInteropTest {
    static final String PYTHON = "/usr/bin/python3";
    static final ObjectMapper JSON = new ObjectMapper();
    static final Path PACKAGE = Path.of("python").toAbsolutePath();
    static final Path YARDSTICK = Path.of(System.getProperty("woodflow.yardstick", "../shared/yardstick"))
            .toAbsolutePath().normalize();
    static String noTorch;

    @BeforeAll
    static void setUp() {
        Tensors.load();
        try {
            Process p = new ProcessBuilder(PYTHON, "-c", "import torch, numpy").redirectErrorStream(true).start();
            boolean done = p.waitFor(120, TimeUnit.SECONDS);
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (!done || p.exitValue() != 0) noTorch = PYTHON + " cannot import torch and numpy (" + out + ")";
        } catch (IOException | InterruptedException e) {
            noTorch = PYTHON + " cannot be run (" + e.getMessage() + ")";
        }
    }

    static void needTorch() {
        assumeTrue(noTorch == null, () -> "skipped: " + noTorch
                + "; install Debian's python3-torch python3-numpy (.ci/run does)");
    }

    static void needYardstick() {
        needTorch();
        assumeTrue(Files.exists(YARDSTICK.resolve("torch_glow.py")), () -> "skipped: the paper-style PyTorch model "
                + YARDSTICK.resolve("torch_glow.py") + " is not there (set -Dwoodflow.yardstick=DIR)");
    }

    /** Runs a Python script of src/test/resources/interop with woodflow_torch importable; one JSON object a line. */
    static List<JsonNode> python(String script, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(PYTHON, Path.of("src/test/resources/interop", script)
                .toAbsolutePath().toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("PYTHONPATH", PACKAGE.toString());
        pb.environment().put("OMP_NUM_THREADS", "1");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(300, TimeUnit.SECONDS)).as("python finished").isTrue();
        assertThat(p.exitValue()).as(String.join(" ", cmd) + "\n" + out).isZero();
        List<JsonNode> lines = new ArrayList<>();
        for (String line : out.split("\n")) if (line.startsWith("{")) lines.add(JSON.readTree(line));
        return lines;
    }

    static ModelConfig tiny(String permutation, String coupling, int d) {
        int[] dims = {d, d};
        return ModelConfig.of(1, 8, 8, 2, 2, 8, Permutation.parse(permutation))
                .withCoupling(CouplingType.parse(coupling))
                .withLatentDims(dims, dims, dims, dims);
    }

    static RunConfig run(ModelConfig m) {
        return new RunConfig("interop test", m, DataConfig.embedded(), TrainConfig.defaults());
    }

    /** A model with initialised ActNorms and every parameter moved off its initial value (zero convs included). */
    static MultiScaleFlow trainedLike(ModelConfig cfg, long seed) {
        torch.manual_seed(seed);
        MultiScaleFlow model = new MultiScaleFlow(cfg, Init.float32());
        try (NoGradGuard g = new NoGradGuard()) {
            model.encode(torch.rand(new long[] {16, 1, 8, 8}).sub(s(0.5)));
            for (Tensor p : model.parameters()) p.add_(torch.randn_like(p).mul(s(0.05)));
        }
        model.train(false);
        return model;
    }

    static Tensor inputs(long seed) {
        torch.manual_seed(seed);
        Tensor x8 = torch.randint(0, 256, new long[] {4, 1, 8, 8}).to(torch.ScalarType.Float);
        return Tensors.keep(x8.div(s(256)).sub(s(0.5)).add(torch.rand_like(x8).div(s(256))));
    }

    static double[] bpd(MultiScaleFlow model, Tensor x) {
        try (NoGradGuard g = new NoGradGuard()) {
            return Tensors.toDoubles(model.bitsPerDim(x, 256));
        }
    }

    static double reconstructionError(MultiScaleFlow model, Tensor x) {
        try (NoGradGuard g = new NoGradGuard()) {
            return model.decode(model.encode(x).latents()).sub(x).abs().max().item_double();
        }
    }

    static void writeInputs(Path file, Tensor x) throws IOException {
        Files.write(file, SafeTensors.write(Map.of("x", x), Map.of()));
    }

    static void assertClose(double[] woodflow, JsonNode python, String what) {
        assertThat(python.size()).as(what).isEqualTo(woodflow.length);
        for (int i = 0; i < woodflow.length; i++) {
            assertThat(Math.abs(woodflow[i] - python.get(i).asDouble())).as(what + " image " + i + ": woodflow "
                    + woodflow[i] + ", PyTorch " + python.get(i).asDouble()).isLessThan(1e-4);
        }
    }

    @Test
    void woodflowCheckpointsGiveTheSameBitsPerDimInWoodflowTorch(@TempDir Path dir) throws Exception {
        needTorch();
        String[][] cases = {{"woodbury", "affine"}, {"me-woodbury", "affine"}, {"woodbury", "additive"},
                {"me-woodbury", "additive"}, {"conv1x1", "affine"}, {"conv1x1-lu", "affine"}, {"reverse", "additive"},
                {"periodic", "affine"}, {"woodbury", "spline"}, {"periodic", "spline"}, {"emerging", "affine"},
                {"woodbury", "macow"}};
        List<String> args = new ArrayList<>();
        List<double[]> expected = new ArrayList<>();
        List<Double> javaRecon = new ArrayList<>();
        for (int i = 0; i < cases.length; i++) {
            ModelConfig cfg = tiny(cases[i][0], cases[i][1], 3);
            MultiScaleFlow model = trainedLike(cfg, 100 + i);
            Tensor x = inputs(200 + i);
            Path ckpt = dir.resolve(i + ".safetensors"), in = dir.resolve(i + "-x.safetensors");
            Checkpoint.save(ckpt, run(cfg), model, null, Checkpoint.TrainState.fresh(1e-3));
            writeInputs(in, x);
            args.add(ckpt.toString());
            args.add(in.toString());
            expected.add(bpd(model, x));
            javaRecon.add(reconstructionError(model, x));
        }
        // the moving average of the weights (train.ema): woodflow_torch takes it by default, as woodflow's commands do
        {
            ModelConfig cfg = tiny("woodbury", "affine", 3);
            MultiScaleFlow model = trainedLike(cfg, 150);
            Map<String, Tensor> average = new java.util.LinkedHashMap<>();
            torch.manual_seed(151);
            model.namedParameters().forEach((k, p) -> average.put("ema." + k,
                    p.detach().add(torch.randn_like(p).mul(woodflow.core.Tensors.s(0.02)))));
            Tensor x = inputs(250);
            Path ckpt = dir.resolve("ema.safetensors"), in = dir.resolve("ema-x.safetensors");
            Checkpoint.save(ckpt, run(cfg), model, null, Checkpoint.TrainState.fresh(1e-3), average);
            writeInputs(in, x);
            args.add(ckpt.toString());
            args.add(in.toString());
            MultiScaleFlow averaged = Checkpoint.read(ckpt).model("cpu");
            expected.add(bpd(averaged, x));
            javaRecon.add(reconstructionError(averaged, x));
            assertThat(bpd(averaged, x)[0]).isNotEqualTo(bpd(model, x)[0]);
        }
        List<JsonNode> out = python("woodflow_torch_check.py", args.toArray(String[]::new));
        assertThat(out).hasSize(cases.length + 1);
        for (int i = 0; i <= cases.length; i++) {
            String what = i < cases.length ? cases[i][0] + " + " + cases[i][1] : "woodbury + affine, averaged weights";
            assertClose(expected.get(i), out.get(i).get("bpd"), what);
            // 1e-5, or a few times woodflow's own float32 round trip where that is worse: spline couplings and the
            // periodic convolution of these random models lose up to ~1e-3 in woodflow itself, which is float32's
            // conditioning, not the port (the float64 round trip below is exact)
            double bound = Math.max(1e-5, 4 * javaRecon.get(i));
            assertThat(out.get(i).get("recon").asDouble()).as(what + ": max |decode(encode(x)) - x| (woodflow's own: "
                    + javaRecon.get(i) + ")").isLessThan(bound);
            assertThat(out.get(i).get("recon64").asDouble()).as(what + ": the same in float64").isLessThan(1e-9);
        }
    }

    /**
     * "official" saves the same model in the layout of the official code (github yolu1055/WoodburyTransformations:
     * flow.layers.i, Conv2dZeros with bias + newbias and (C, 1, 1) logs, "eye" buffers) inside the dict its
     * utils.save_model writes (iteration, modelname, model, optim with Adam's state, scheduler).
     */
    @ParameterizedTest
    @ValueSource(strings = {"woodbury", "me-woodbury", "woodbury official", "me-woodbury official"})
    void aPaperCheckpointImportsWithTheSameBitsPerDimAndTrainsOn(String variant, @TempDir Path dir)
            throws Exception {
        needYardstick();
        String permutation = variant.split(" ")[0];
        boolean me = permutation.equals("me-woodbury"), official = variant.endsWith("official");
        Path pt = dir.resolve("paper.pt"), in = dir.resolve("x.safetensors");
        List<String> args = new ArrayList<>(List.of("write", "--yardstick", YARDSTICK.toString(), "--me",
                me ? "1" : "0", "--rank", "4", "--pt", pt.toString(), "--inputs", in.toString()));
        if (official) args.add("--official");
        JsonNode paper = python("paper_model.py", args.toArray(String[]::new)).get(0);
        Path config = dir.resolve("tiny.yaml");
        Files.writeString(config, """
                model: {channels: 1, height: 8, width: 8, levels: 2, steps: 2, hidden: 8, permutation: %s,
                        d_c: [4, 4], d_s: [4, 4], d_h: [4, 4], d_w: [4, 4]}
                data: {kind: embedded, count: 64, holdout: 16}
                train: {batch: 8, iterations: 2, eval_every: 2, log_every: 1, seed: 1}
                """.formatted(permutation));
        Path runDir = dir.resolve("run");
        CliTest.Outcome o = cli("import", "--checkpoint", pt.toString(), "--config", config.toString(), "--out",
                runDir.toString(), "--threads", "1");
        assertThat(o.code()).as(o.err()).isZero();
        assertThat(o.out()).contains("imported ", "ckpt-00000000.safetensors");
        if (official) assertThat(o.out()).contains("(its 'model' entry)");
        Tensor x = SafeTensors.read(Files.readAllBytes(in), "inputs").tensors().get("x");
        MultiScaleFlow model = Checkpoint.loadModel(runDir.resolve("checkpoints/ckpt-00000000.safetensors"));
        assertClose(bpd(model, x), paper.get("bpd"), "paper's " + variant + " model imported");
        // woodflow continues training it
        o = cli("train", "--out", runDir.toString(), "--resume", "--iterations", "2", "--no-report", "--threads", "1");
        assertThat(o.code()).as(o.err()).isZero();
        assertThat(o.out()).contains("resumed from", "done: 2 iterations");
    }

    @Test
    void anUnmappableParameterIsNamed(@TempDir Path dir) throws Exception {
        needYardstick();
        Path pt = dir.resolve("paper.pt"), in = dir.resolve("x.safetensors");
        python("paper_model.py", "write", "--yardstick", YARDSTICK.toString(), "--rank", "4", "--pt", pt.toString(),
                "--inputs", in.toString(), "--extra");
        Path config = dir.resolve("tiny.yaml");
        Files.writeString(config, "model: {channels: 1, height: 8, width: 8, levels: 2, steps: 2, hidden: 8, "
                + "d_c: [4, 4], d_s: [4, 4]}\n");
        CliTest.Outcome o = cli("import", "--checkpoint", pt.toString(), "--config", config.toString(), "--out",
                dir.resolve("run").toString());
        assertThat(o.code()).isNotZero();
        assertThat(o.err()).contains("cannot map 1 parameter(s)", "levels.0.0.3.weight [3]");
    }

    @ParameterizedTest
    @ValueSource(strings = {"woodbury", "me-woodbury"})
    void anExportLoadsStrictlyIntoThePapersClassWithTheSameBitsPerDim(String permutation, @TempDir Path dir)
            throws Exception {
        needYardstick();
        ModelConfig cfg = tiny(permutation, "affine", 4).withSteps(2).withHidden(8);
        MultiScaleFlow model = trainedLike(cfg, 7);
        Tensor x = inputs(8);
        Path ckpt = dir.resolve("w.safetensors"), pt = dir.resolve("model.pt"), in = dir.resolve("x.safetensors");
        Checkpoint.save(ckpt, run(cfg), model, null, Checkpoint.TrainState.fresh(1e-3));
        writeInputs(in, x);
        CliTest.Outcome o = cli("export", "--checkpoint", ckpt.toString(), "--out", pt.toString());
        assertThat(o.code()).as(o.err()).isZero();
        assertThat(o.out()).contains("exported ", "strict=True");
        JsonNode paper = python("paper_model.py", "read", "--yardstick", YARDSTICK.toString(), "--me",
                permutation.equals("me-woodbury") ? "1" : "0", "--rank", "4", "--pt", pt.toString(), "--inputs",
                in.toString()).get(0);
        assertClose(bpd(model, x), paper.get("bpd"), "woodflow " + permutation + " exported");
    }

    @Test
    void exportRefusesWhatThePapersClassCannotHold(@TempDir Path dir) throws Exception {
        ModelConfig cfg = tiny("conv1x1", "additive", 2);
        Path ckpt = dir.resolve("c.safetensors");
        Checkpoint.save(ckpt, run(cfg), new MultiScaleFlow(cfg, Init.float32()), null,
                Checkpoint.TrainState.fresh(1e-3));
        CliTest.Outcome o = cli("export", "--checkpoint", ckpt.toString(), "--out", dir.resolve("m.pt").toString());
        assertThat(o.code()).isNotZero();
        assertThat(o.err()).contains("permutation 'conv1x1'", "coupling 'additive'");
    }
}
