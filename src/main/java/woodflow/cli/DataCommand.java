package woodflow.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import woodflow.data.DataCache;
import woodflow.data.DataConfig;
import woodflow.data.DataKind;
import woodflow.data.DataInspect;
import woodflow.data.DataSets;
import woodflow.data.Splits;
import woodflow.io.OutputGuard;
import woodflow.train.Presets;
import woodflow.train.RunConfig;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code woodflow data}: look at a data source, or cache it decoded. */
@Command(name = "data", mixinStandardHelpOptions = true, description = "Inspect or cache a data set.",
        subcommands = {DataCommand.Inspect.class, DataCommand.Cache.class})
public final class DataCommand implements Runnable {
    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.out);
    }

    /** What to open: a path with a kind, or a preset's data section. */
    static class Source {
        @Parameters(index = "0", arity = "0..1", description = "Data folder or file (with --kind).")
        Path path;

        @Option(names = "--kind", description = "Format: embedded, fashion-mnist, idx, cifar10, folder, imagenet, "
                + "lsun, celeba (default: guessed from the path).")
        DataKind kind;

        @Option(names = "--preset", description = "Use this preset's data section.")
        String preset;

        @Option(names = "--size", description = "Side length to resize folder-like data to.")
        Integer size;

        @Option(names = "--channels", description = "1 (grey) or 3 (RGB).")
        Integer channels;

        /** The data path this command reads, by the option that named it (for the output rule). */
        OutputGuard.Input input(DataConfig d) {
            return OutputGuard.Input.of(path != null ? "the data path" : "data.path of --preset " + preset, d.path());
        }

        /** How the kind was chosen, when it was guessed (printed, and added to an error). */
        String guessedFrom;

        DataConfig resolve() {
            DataConfig d;
            if (preset != null) {
                RunConfig c = Presets.load(preset);
                d = c.data().withChannels(c.model().channels()).withSize(c.model().height());
                if (path != null) d = d.withPath(path.toString());
            } else {
                DataKind k = kind;
                if (k == null) {
                    DataKind.Guess g = DataKind.guess(path);
                    k = g.kind();
                    guessedFrom = g.from();
                }
                d = DataConfig.of(k, path == null ? null : path.toString());
            }
            if (size != null) d = d.withSize(size);
            if (channels != null) d = d.withChannels(channels);
            return d;
        }
    }

    @Command(name = "inspect", mixinStandardHelpOptions = true,
            description = {"Print what a data source holds (count, size, channels, pixel statistics) and write a "
                    + "grid of training images.",
                    "Example: woodflow data inspect /usr/share/datasets/fashion-mnist --out fmnist.png"})
    static final class Inspect implements Callable<Integer> {
        @Mixin
        Common common;
        @Mixin
        Source source = new Source();
        @Option(names = "--out", defaultValue = "data-grid.png", description = "Grid PNG (default data-grid.png).")
        Path out;
        @Option(names = "--sample", defaultValue = "1000", description = "Images used for statistics.")
        int sample;
        @Mixin
        ForceOption overwrite;

        @Override
        public Integer call() {
            if (sample < 1) {
                throw new IllegalArgumentException("--sample must be at least 1 (the number of images the statistics "
                        + "are computed from), got " + sample + "; e.g. --sample 1000");
            }
            common.setUp();
            DataConfig d = source.resolve();
            OutputGuard.file("--out", out, OutputGuard.FileKind.PNG, overwrite.force, source.input(d));
            System.out.println("data: kind " + d.kind() + (source.guessedFrom == null || d.path() == null ? ""
                    : " (guessed from "
                    + source.guessedFrom + ")") + (d.path() == null ? "" : ", path " + d.path()));
            try {
                DataInspect.run(d, sample, out, System.out);
            } catch (woodflow.data.DataException e) {
                if (source.guessedFrom == null || d.path() == null) throw e;
                throw new woodflow.data.DataException(e.getMessage() + "; the kind " + d.kind() + " was guessed from "
                        + source.guessedFrom + ": name the format with --kind (fashion-mnist, idx, cifar10, folder, "
                        + "imagenet, lsun, celeba)", e);
            }
            return 0;
        }
    }

    @Command(name = "cache", mixinStandardHelpOptions = true,
            description = {"Decode and resize a data set once into compact uint8 files, so later epochs skip "
                    + "decoding (set data.cache to the same folder in the run config).",
                    "Example: woodflow data cache --preset celeba64-woodbury --cache-dir cache/"})
    static final class Cache implements Callable<Integer> {
        @Mixin
        Common common;
        @Mixin
        Source source = new Source();
        @Option(names = "--cache-dir", required = true, description = "Folder for the cache files.")
        Path dir;

        @Override
        public Integer call() {
            common.setUp();
            DataConfig d = source.resolve();
            OutputGuard.folder("--cache-dir", dir, DataCache.FOLDER, source.input(d));
            d = d.withCache(dir.toString());
            int c = d.channels() != null ? d.channels() : 3;
            int s = d.size() != null ? d.size() : 32;
            long t0 = System.nanoTime();
            try (Splits sp = DataSets.open(d, c, s)) {
                System.out.printf(Locale.ROOT, "cached %s (%d) and %s (%d) in %.1f s under %s%n",
                        sp.train().describe(), sp.train().size(), sp.test().describe(), sp.test().size(),
                        (System.nanoTime() - t0) / 1e9, dir);
            }
            return 0;
        }
    }
}
