package woodflow.cli;

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
}
