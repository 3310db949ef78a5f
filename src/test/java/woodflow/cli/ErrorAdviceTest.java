package woodflow.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static woodflow.cli.BadInputTest.fails;
import static woodflow.cli.CliTest.cli;

/**
 * Every error names the file it is about and a fix that exists (issue 31): --resume after editing the run's own
 * config.yaml, import of a truncated, empty or foreign file, an internal error.
 */
class ErrorAdviceTest {
    static Path root;
    static Path run;

    @BeforeAll
    static void trainOneRun(@TempDir Path dir) throws Exception {
        root = dir;
        Path cfg = Files.writeString(dir.resolve("tiny.yaml"), CliTest.TINY);
        run = dir.resolve("run");
        CliTest.Outcome o = cli("train", "--config", cfg.toString(), "--out", run.toString(), "--iterations", "4",
                "--eval-every", "4", "--no-report", "--quiet");
        assertThat(o.code()).as(o.err()).isZero();
    }

    @Test
    void resumeAfterEditingTheRunsOwnConfigSaysToPutTheValueBackNotToOmitTheFile() throws Exception {
        Path edited = Files.createDirectories(root.resolve("edited"));
        for (String f : new String[] {"config.yaml", "run.lock"}) Files.copy(run.resolve(f), edited.resolve(f));
        Files.createDirectories(edited.resolve("checkpoints"));
        Files.copy(run.resolve("checkpoints/best.safetensors"), edited.resolve("checkpoints/ckpt-00000004"
                + ".safetensors"));
        Path yaml = edited.resolve("config.yaml");
        Files.writeString(yaml, Files.readString(yaml).replace("hidden: 8", "hidden: 16"));
        for (String[] args : new String[][] {{"train", "--out", edited.toString(), "--resume", "--no-report"},
                {"train", "--config", yaml.toString(), "--out", edited.toString(), "--resume", "--no-report"}}) {
            CliTest.Outcome o = cli(args);
            fails(o, "model.hidden is 8 in the checkpoint, 16 in", yaml + " was edited after the checkpoint was "
                    + "written: put back hidden: 8 in its model section to resume, or train the edited model into a "
                    + "new folder (`woodflow train --config " + yaml + " --out NEW`)");
            assertThat(o.err()).as(Arrays.toString(args)).doesNotContain("omit");
        }
    }

    /** libtorch's allocator failing is "out of memory", with the size and the keys that make the model smaller. */
    @Test
    void libtorchsAllocationFailureIsOutOfMemoryNamingTheKeys() {
        String m = woodflow.core.Reasons.of(new RuntimeException("[enforce fail at alloc_cpu.cpp:117] err == 0. "
                + "DefaultCPUAllocator: can't allocate memory: you tried to allocate 432000000000 bytes. Error code 12 "
                + "(Cannot allocate memory)\nException raised from alloc_cpu at ..."));
        assertThat(m).isEqualTo("out of memory: libtorch could not allocate 432 GB; make the model or the batch "
                + "smaller (model.hidden, model.steps, model.levels, train.batch)");
    }

    /** A run that fails at its start (here: a model too large to allocate) leaves no run folder behind. */
    @Test
    void aRunThatFailsAtItsStartLeavesNoRunFolder() throws Exception {
        Path cfg = Files.writeString(root.resolve("huge.yaml"), CliTest.TINY.replace("hidden: 8",
                "hidden: 2000000000"));
        Path out = root.resolve("huge");
        CliTest.Outcome o = cli("train", "--config", cfg.toString(), "--out", out.toString(), "--no-report",
                "--quiet");
        fails(o, "out of memory: libtorch could not allocate ", " GB; make the model or the batch smaller "
                + "(model.hidden, model.steps, model.levels, train.batch)");
        assertThat(out).doesNotExist();
    }

    @Test
    void importNamesTheFileAndWhatItIs() throws Exception {
        Path pt = root.resolve("model.pt");
        assertThat(cli("export", "--checkpoint", run.toString(), "--out", pt.toString()).code()).isZero();
        byte[] bytes = Files.readAllBytes(pt);
        Path cut = Files.write(root.resolve("cut.pt"), Arrays.copyOf(bytes, bytes.length / 2));
        Path cfg = root.resolve("tiny.yaml");
        CliTest.Outcome truncated = cli("import", "--checkpoint", cut.toString(), "--config", cfg.toString(), "--out",
                root.resolve("i1").toString());
        fails(truncated, "checkpoint " + cut + " is a truncated or damaged torch.save file");
        assertThat(truncated.err()).doesNotContain("END header");

        Path empty = Files.write(root.resolve("empty.pt"), new byte[0]);
        CliTest.Outcome zero = cli("import", "--checkpoint", empty.toString(), "--config", cfg.toString(), "--out",
                root.resolve("i2").toString());
        fails(zero, "checkpoint " + empty + " is empty (0 bytes)");
        assertThat(zero.err()).doesNotContain("PyTorch < 1.6");

        Path mine = run.resolve("checkpoints/best.safetensors");
        CliTest.Outcome ours = cli("import", "--checkpoint", mine.toString(), "--config", cfg.toString(), "--out",
                root.resolve("i3").toString());
        fails(ours, "checkpoint " + mine + " is a woodflow checkpoint (safetensors), not a torch.save file: woodflow "
                + "reads it as it is (e.g. woodflow eval --checkpoint " + mine + ")");
        assertThat(ours.err()).doesNotContain("PyTorch < 1.6");

        Path text = Files.writeString(root.resolve("notes.pt"), "just some text\n");
        CliTest.Outcome other = cli("import", "--checkpoint", text.toString(), "--config", cfg.toString(), "--out",
                root.resolve("i4").toString());
        fails(other, "checkpoint " + text + " is not a torch.save file");
        assertThat(other.err()).doesNotContain("PyTorch < 1.6");

        // PyTorch's format before 1.6 (a pickle that starts with its magic number) keeps its own advice
        byte[] legacy = {(byte) 0x80, 0x02, (byte) 0x8a, 0x0a, 0x6c, (byte) 0xfc, (byte) 0x9c, 0x46, (byte) 0xf9, 0x20,
                0x6a, (byte) 0xa8, 0x50, 0x19, 0x2e};
        Path old = Files.write(root.resolve("old.pt"), legacy);
        fails(cli("import", "--checkpoint", old.toString(), "--config", cfg.toString(), "--out",
                root.resolve("i5").toString()), "checkpoint " + old + " is in PyTorch's format before 1.6");
        for (String i : new String[] {"i1", "i2", "i3", "i4", "i5"}) assertThat(root.resolve(i)).doesNotExist();

        // and the other way round: a .pt, or an empty file, where woodflow reads a checkpoint
        fails(cli("eval", "--checkpoint", pt.toString()), "checkpoint " + pt + " is a torch.save (.pt) file, not a "
                + "woodflow checkpoint: woodflow reads its own .safetensors checkpoints; to bring a .pt in, use "
                + "woodflow import");
        Path none = Files.write(root.resolve("none.safetensors"), new byte[0]);
        fails(cli("sample", "--checkpoint", none.toString(), "--out", root.resolve("g.png").toString()),
                "checkpoint " + none + " is empty (0 bytes), not a safetensors checkpoint");
    }

    @Test
    void anInternalErrorIsSaidToBeOneWithoutAJavaTypeName() {
        assertThat(woodflow.core.Reasons.of(new NullPointerException("Cannot invoke \"String.length()\"")))
                .startsWith("an internal error stopped the command; this is a bug: please report it")
                .doesNotContain("NullPointer").doesNotContain("String.length");
        assertThat(woodflow.core.Reasons.of(new RuntimeException("[enforce fail at alloc_cpu.cpp:117] "
                + "DefaultCPUAllocator: can't allocate memory\nException raised from x at y.cpp:1")))
                .isEqualTo("libtorch: DefaultCPUAllocator: can't allocate memory");
        assertThat(woodflow.core.Reasons.of(new java.nio.file.AccessDeniedException("/x/y")))
                .isEqualTo("/x/y: permission denied");
    }
}
