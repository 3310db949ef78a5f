package woodflow.model;

import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import woodflow.core.FlowLayer;
import woodflow.core.FlowResult;
import woodflow.core.Module;
import woodflow.core.Tensors;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Walks a model on an input batch and reports, layer by layer, the output shape, the parameter count and the mean
 * log-det (in nats per sample, and as its contribution to bits per dimension: -log-det / (D ln 2)).
 */
public final class ModelInspector {
    private ModelInspector() {}

    public record Row(String name, String type, String shape, long parameters, double logDet, double bpdTerm) {}

    public static List<Row> inspect(MultiScaleFlow model, Tensor x) {
        List<Row> rows = new ArrayList<>();
        double d = (double) x.size(1) * x.size(2) * x.size(3);
        try (NoGradGuard g = new NoGradGuard()) {
            Tensor h = x;
            for (int l = 0; l < model.levels().size(); l++) {
                MultiScaleFlow.Level level = model.levels().get(l);
                h = level.squeeze(h);
                rows.add(new Row("level" + l + ".squeeze", "Squeeze", shape(h), 0, 0, 0));
                for (FlowStep step : level.steps()) {
                    for (FlowLayer layer : step.parts()) {
                        FlowResult r = layer.forward(h);
                        h = r.out();
                        rows.add(row(layer, h, r, d));
                    }
                }
                if (level.split() != null) {
                    FlowResult r = level.split().forward(h);
                    rows.add(row(level.split(), r.out(), r, d));
                    h = r.out().narrow(1, 0, h.size(1) / 2);
                }
            }
            FlowResult r = model.top().forward(h);
            rows.add(row(model.top(), r.out(), r, d));
        }
        return rows;
    }

    private static Row row(Module m, Tensor out, FlowResult r, double d) {
        double ld = r.logDet().mean().item_double();
        return new Row(m.path(), m.getClass().getSimpleName(), shape(out), m.parameterCount(), ld,
                -ld / (d * Math.log(2)));
    }

    private static String shape(Tensor t) {
        long[] s = Tensors.shape(t);
        StringBuilder b = new StringBuilder();
        for (int i = 1; i < s.length; i++) b.append(i > 1 ? "x" : "").append(s[i]);
        return b.toString();
    }

    public static String table(List<Row> rows, long total) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "%-34s %-22s %-12s %12s %14s %10s%n", "layer", "type", "output",
                "parameters", "log-det/sample", "bpd term"));
        double sum = 0;
        for (Row r : rows) {
            b.append(String.format(Locale.ROOT, "%-34s %-22s %-12s %,12d %14.2f %10.4f%n", r.name(), r.type(),
                    r.shape(), r.parameters(), r.logDet(), r.bpdTerm()));
            sum += r.logDet();
        }
        b.append(String.format(Locale.ROOT, "%-34s %-22s %-12s %,12d %14.2f%n", "total", "", "", total, sum));
        return b.toString();
    }
}
