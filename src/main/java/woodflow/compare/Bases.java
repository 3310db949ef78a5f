package woodflow.compare;

import woodflow.core.Choice;
import woodflow.core.Choices;
import woodflow.train.Presets;
import woodflow.train.RunConfig;

import java.util.Arrays;
import java.util.List;

/**
 * The base config of a study: the data, preprocessing, batch size, optimiser, seed, evaluation settings and
 * architecture sizes every variant shares. {@code --data NAME} takes them from the data set's Woodbury preset
 * ({@code fmnist} is {@code fmnist-woodbury}, {@code embedded} is {@code demo}, {@code cifar10} is
 * {@code cifar10-woodbury}, ...); {@code --base} names any preset or a YAML/JSON config file.
 */
public final class Bases {
    /** A data set {@code --data} names: the prefix of its presets, and its Woodbury preset (the base). */
    public enum Data implements Choice {
        /** The embedded images, whose base is the demo preset ({@code demo} names it too). */
        EMBEDDED("demo") {
            @Override
            public List<String> aliases() {
                return List.of("demo");
            }

            @Override
            public String basePreset() {
                return "demo";
            }
        },
        /** Fashion-MNIST ({@code fashion-mnist} names it too). */
        FMNIST("fmnist") {
            @Override
            public List<String> aliases() {
                return List.of("fashion-mnist");
            }
        },
        CIFAR10("cifar10"),
        IMAGENET32("imagenet32"),
        IMAGENET64("imagenet64"),
        LSUN96("lsun96"),
        CELEBA64("celeba64"),
        CELEBA128("celeba128"),
        CELEBA256("celeba256");

        private final String prefix;

        Data(String prefix) {
            this.prefix = prefix;
        }

        /** The prefix of this data set's presets: {@code PREFIX-METHOD}, e.g. cifar10-spline. */
        public String prefix() {
            return prefix;
        }

        /** The preset every variant of a study on this data set derives from: its Woodbury preset. */
        public String basePreset() {
            return prefix + "-woodbury";
        }

        @Override
        public String toString() {
            return label();
        }

        /** The data set of a {@code --data} name (any case). */
        public static Data parse(String name) {
            try {
                return Choices.parse(Data.class, name.strip(), "--data");
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(e.getMessage() + " (or name a preset or config file with --base)");
            }
        }
    }

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
        return Presets.load(Data.parse(data).basePreset());
    }

    /** The preset prefix of a --data name: fmnist-*, cifar10-*, ...; "demo" for the embedded data. */
    public static String dataPrefix(String data) {
        return Data.parse(data).prefix();
    }

    /** The data names {@code --data} accepts: embedded and every data set with a Woodbury preset. */
    public static List<String> dataNames() {
        return Arrays.stream(Data.values()).map(Data::label).toList();
    }
}
