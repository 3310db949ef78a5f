package woodflow.cli;

import woodflow.train.CheckpointStore;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Resolves {@code --checkpoint}: a checkpoint file, or a run folder (its best, else its latest checkpoint). */
final class CheckpointOption {
    private CheckpointOption() {}

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
