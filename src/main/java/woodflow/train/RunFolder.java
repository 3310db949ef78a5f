package woodflow.train;

import woodflow.data.DataKind;
import woodflow.io.OutputGuard;
import woodflow.io.OutputGuard.FolderKind;
import woodflow.io.OutputGuard.Input;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What a command may take as a run folder to write, and what a command that reads a checkpoint reads: the rule itself
 * is {@link OutputGuard}'s; this class names a run's inputs (its config file, its data folder) and a checkpoint's (the
 * file, and the run folder it lies in).
 */
public final class RunFolder {
    private RunFolder() {}

    /**
     * Checks {@code out} (named by {@code option}) as the run folder of {@code cfg}, read from {@code configFile}
     * (null for a preset): new, empty or a woodflow run; not the config, not inside the data folder, nor inside
     * or holding any of {@code more}. Returns it.
     */
    public static Path checkOut(String option, Path out, Path configFile, RunConfig cfg, Input... more) {
        List<Input> inputs = new ArrayList<>(List.of(more));
        inputs.add(Input.of("--config", configFile));
        if (cfg != null && cfg.data().kind() != DataKind.EMBEDDED) inputs.add(Input.of("data.path", cfg.data().path()));
        return OutputGuard.folder(option, out, FolderKind.RUN, inputs);
    }

    /**
     * What {@code --checkpoint given} reads: the path given, the checkpoint file it means ({@code file}) and the run
     * folder that file lies in (so that no output lands on the run's other files either).
     */
    public static List<Input> checkpointInputs(String option, Path given, Path file) {
        List<Input> out = new ArrayList<>(List.of(Input.of(option, given)));
        if (file != null && !file.equals(given)) out.add(Input.of(option, file));
        Path run = file == null ? null : runOf(file);
        if (run != null) out.add(Input.of(option + "'s run folder", run));
        return out;
    }

    /** The run folder that holds a checkpoint file ({@code RUN/checkpoints/NAME}), or null. */
    public static Path runOf(Path checkpointFile) {
        Path dir = checkpointFile.toAbsolutePath().getParent();
        if (dir == null || dir.getFileName() == null || !dir.getFileName().toString().equals("checkpoints")) return null;
        Path run = dir.getParent();
        return run != null && FolderKind.RUN.recognised().test(run) ? run : null;
    }

    /**
     * Creates {@code dir} with its marker file, so that it is recognised as a run before anything else is written
     * into it (by the ranks a launcher starts, say). An existing marker is left as it is.
     */
    public static void claim(Path dir) throws IOException {
        Files.createDirectories(dir);
        Path marker = dir.resolve(OutputGuard.RUN_MARKER);
        if (!Files.exists(marker)) Files.createFile(marker);
    }
}
