package woodflow.cli;

import woodflow.data.DataConfig;
import woodflow.data.DataSets;
import woodflow.data.Splits;
import woodflow.model.ModelConfig;
import woodflow.train.RunConfig;

/** Opens a run's data set at the model's shape. */
final class Runs {
    private Runs() {}

    static Splits open(RunConfig cfg) {
        ModelConfig m = cfg.model();
        if (m.height().intValue() != m.width().intValue()) {
            throw new IllegalArgumentException("data sets are square: the model's image is " + m.height() + "x"
                    + m.width());
        }
        return DataSets.open(cfg.data(), m.channels(), m.height());
    }

    /**
     * A file a command writes: not a folder, and not the input it reads (nothing already written is lost). Names the
     * option and the fix.
     */
    static void checkOutput(java.nio.file.Path out, String option, java.nio.file.Path input) {
        if (java.nio.file.Files.isDirectory(out)) {
            throw new IllegalArgumentException(option + " " + out + " is a folder: give the file to write, e.g. "
                    + option + " " + out.resolve("eval.json"));
        }
        if (out.toAbsolutePath().normalize().equals(input.toAbsolutePath().normalize())) {
            throw new IllegalArgumentException(option + " " + out + " is the file this command reads: give another "
                    + "file to write");
        }
    }

    /**
     * {@code data} with its path replaced by the {@code --data-path} option (none: unchanged). Data that reads no
     * files (the embedded shapes) refuses it rather than ignore it silently.
     */
    static DataConfig withDataPath(DataConfig data, String dataPath) {
        if (dataPath == null) return data;
        if (data.kind() == woodflow.data.DataKind.EMBEDDED) {
            throw new IllegalArgumentException("--data-path " + dataPath + " does not apply: this run's data.kind "
                    + "embedded reads no files (its images are generated from data.seed); drop --data-path, or use a "
                    + "config whose data.kind reads files (folder, idx, cifar10, ...)");
        }
        return data.withPath(dataPath);
    }
}
