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
     * A class-conditional config with its {@code model.classes} taken from the data's labels when it names none (a
     * preset), so that a model can be built before training (inspect, doctor, bench); any other config as it is.
     */
    static RunConfig withClasses(RunConfig cfg) {
        var m = cfg.model();
        if (!m.classConditional() || m.classes() != null) return cfg;
        try (Splits data = open(cfg)) {
            var labels = data.train().labels().orElseThrow(() -> new IllegalArgumentException("model.conditional: "
                    + "class needs the images' classes, but the data has no labels (" + data.train().describe() + ")"));
            return cfg.withModel(m.withClasses(m.conditional(), labels.names(), m.classLossWeight()));
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
