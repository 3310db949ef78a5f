package woodflow.cli;

import picocli.CommandLine.Option;
import woodflow.train.CheckpointStore;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code --checkpoint}, a mixin of the commands that read one trained model: a checkpoint file, or a run folder (its
 * best, else its latest checkpoint).
 */
final class CheckpointOption {
    @Option(names = "--checkpoint", required = true, description = "Checkpoint file or run folder (its best).")
    Path checkpoint;

    /** The checkpoint file named by {@code --checkpoint}. */
    Path resolve() throws IOException {
        return resolve(checkpoint);
    }

    /** What {@code --checkpoint} reads, for the output rule: the path given, {@code file} and its run folder. */
    java.util.List<woodflow.io.OutputGuard.Input> inputs(Path file) {
        return woodflow.train.RunFolder.checkpointInputs("--checkpoint", checkpoint, file);
    }

    static Path resolve(Path p) throws IOException {
        if (p == null) throw new IllegalArgumentException("--checkpoint FILE (or a run folder) is required");
        if (Files.isDirectory(p)) {
            CheckpointStore s = new CheckpointStore(p, 1);
            if (Files.exists(s.best())) return s.best();
            var all = s.list();
            if (all.isEmpty()) throw new IllegalArgumentException("run folder " + p + " holds no checkpoint");
            return all.get(0);
        }
        if (!Files.exists(p)) throw new IllegalArgumentException("checkpoint " + p + " does not exist");
        return p;
    }
}
