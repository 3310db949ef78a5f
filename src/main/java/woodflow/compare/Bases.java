package woodflow.compare;

import woodflow.train.Presets;
import woodflow.train.RunConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The base config of a study: the data, preprocessing, batch size, optimiser, seed, evaluation settings and
 * architecture sizes every variant shares. {@code --data NAME} takes them from the data set's Woodbury preset
 * ({@code fmnist} is {@code fmnist-woodbury}, {@code embedded} is {@code demo}, {@code cifar10} is
 * {@code cifar10-woodbury}, ...); {@code --base} names any preset or a YAML/JSON config file.
 */
public final class Bases {
    private Bases() {}

    public static RunConfig resolve(String data, String base) {
        if (data != null && base != null) {
            throw new IllegalArgumentException("give either --data or --base, not both (--base already names the "
                    + "data)");
        }
        if (base != null) return Presets.resolve(base);
        if (data == null) {
            throw new IllegalArgumentException("say which base config to compare on: --data " + String.join("|",
                    dataNames()) + ", or --base PRESET|FILE");
        }
        String d = dataPrefix(data);
        String preset = d.equals("demo") ? "demo" : d + "-woodbury";
        if (!Presets.names().contains(preset)) {
            throw new IllegalArgumentException("unknown --data '" + data + "': use one of " + String.join(", ",
                    dataNames()) + ", or --base PRESET|FILE");
        }
        return Presets.load(preset);
    }

    /** The preset prefix of a --data name: fmnist-*, cifar10-*, ...; "demo" for the embedded data. */
    public static String dataPrefix(String data) {
        String d = data.strip().toLowerCase(Locale.ROOT);
        return switch (d) {
            case "embedded", "demo" -> "demo";
            case "fashion-mnist" -> "fmnist";
            default -> d;
        };
    }

    /** The data names {@code --data} accepts: embedded and every data set with a Woodbury preset. */
    public static List<String> dataNames() {
        List<String> out = new ArrayList<>(List.of("embedded", "fmnist"));
        for (String p : Presets.names()) {
            if (p.endsWith("-woodbury") && !p.endsWith("-me-woodbury") && !p.startsWith("fmnist")) {
                out.add(p.substring(0, p.length() - "-woodbury".length()));
            }
        }
        return out;
    }
}
