package woodflow.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Opens the training and test sets named by a {@link DataConfig}. Layouts of {@code data.path}:
 * <pre>
 *   embedded        no files; data.count training images (default 10000), data.holdout test images (default 1000);
 *                   data.style scenes (default) or shapes (see EmbeddedStyle)
 *   idx, mnist, fashion-mnist  train-images-idx3-ubyte[.gz], t10k-images-idx3-ubyte[.gz]
 *                   (fashion-mnist defaults to /usr/share/datasets/fashion-mnist); padded to data.size
 *   cifar10         data_batch_1..5[.bin] and test_batch[.bin], here or in cifar-10-batches-bin/
 *   imagenet        train_data_batch_*.npz (or any .npz in train/) and val_data.npz (or any .npz in val/, valid/);
 *                   or PNG folders train[_SxS]/ and valid[_SxS]/ (or val/, test/)
 *   lsun            *_train_lmdb/ and *_val_lmdb/ directories, or one LMDB with a seeded hold-out
 *   celeba          a folder of images with a seeded hold-out of data.holdout (default 3000) test images
 *   folder          train/ and test/ (or valid/, val/) sub-folders, or one folder with a seeded hold-out
 *                   (default a tenth, at most 3000)
 * </pre>
 * Images come out at the model's shape: folder-like formats (folder, imagenet PNG, lsun, celeba) centre-crop and
 * resize to {@code data.size} (default the model's size) in grey or RGB; fixed formats must already match, and a
 * mismatch is an error naming both shapes. {@code train_limit} / {@code test_limit} keep the first N images;
 * {@code data.cache} caches decoded images (see {@link DataCache}).
 */
public final class DataSets {
    public static final Path FASHION_MNIST = Path.of("/usr/share/datasets/fashion-mnist");

    private DataSets() {}

    /** Opens the data set at its natural shape (data inspect, caching): data.channels / data.size or the format's. */
    public static Splits open(DataConfig cfg) {
        int channels = cfg.channels() != null ? cfg.channels() : cfg.kind().grey() ? 1 : 3;
        return open(cfg, channels, cfg.size() != null ? cfg.size() : cfg.kind().naturalSize());
    }

    /** Opens the data set for a model of {@code channels x size x size} images. */
    public static Splits open(DataConfig cfg, int channels, int size) {
        int target = cfg.size() != null ? cfg.size() : size;
        if (cfg.style() != null && cfg.kind() != DataKind.EMBEDDED) {
            throw new DataException("data.style (\"" + cfg.style() + "\") applies to the embedded data set only, not"
                    + " kind " + cfg.kind() + "; remove it");
        }
        if (cfg.cache() != null) { // an output: never on or in the data, never a folder of other files
            woodflow.io.OutputGuard.folder("data.cache", Path.of(cfg.cache()), DataCache.FOLDER,
                    woodflow.io.OutputGuard.Input.of("data.path", cfg.path()));
        }
        Splits raw = cfg.kind().open(cfg, channels, target);
        try {
            ImageSource train = limit(raw.train(), cfg.trainLimit());
            ImageSource test = limit(raw.test(), cfg.testLimit());
            check(cfg, train, DataSplit.TRAIN, channels, size, false);
            check(cfg, test, DataSplit.TEST, channels, size, cfg.testLimit() != null && cfg.testLimit() == 0);
            if (cfg.cache() != null) {
                Path dir = Path.of(cfg.cache());
                String tag = cfg.kind() + (cfg.style() == null ? "" : "-" + cfg.style()) + "-" + channels + "x" + size + "x" + size;
                train = DataCache.openOrBuild(train, dir.resolve(tag + "-train.u8"), workers(cfg));
                test = DataCache.openOrBuild(test, dir.resolve(tag + "-test.u8"), workers(cfg));
                raw.close(); // everything is read from the cache files from now on
            }
            return new Splits(train, test, raw.holdout());
        } catch (RuntimeException e) {
            raw.close();
            throw e;
        }
    }

    static int workers(DataConfig cfg) {
        return cfg.workers() != null ? cfg.workers() : 2;
    }

    private static ImageSource limit(ImageSource s, Integer n) {
        return n == null ? s : IndexedSource.first(s, n);
    }

    private static void check(DataConfig cfg, ImageSource s, DataSplit which, int channels, int size,
                              boolean mayBeEmpty) {
        if (s.size() == 0 && !mayBeEmpty) {
            throw new DataException(s.describe() + ": the " + which.words() + " set is empty; " + emptyFix(cfg, which));
        }
        if (s.channels() != channels || s.height() != size || s.width() != size) {
            throw new DataException(s.describe() + ": the " + which.words() + " images are " + s.channels() + "x"
                    + s.height() + "x" + s.width() + " but the model expects " + channels + "x" + size + "x" + size
                    + "; set the model's channels/size to match the data, or data.size for formats that pad or resize");
        }
    }

    /** What to change when a split holds no images: the keys of this kind of data (embedded data has no path). */
    private static String emptyFix(DataConfig cfg, DataSplit which) {
        String limit = "data." + which.limitKey();
        Integer set = which == DataSplit.TRAIN ? cfg.trainLimit() : cfg.testLimit();
        if (cfg.kind() != DataKind.EMBEDDED) {
            return "check data.path and the file layout (README, \"Data\"), or " + limit;
        }
        String count = which == DataSplit.TRAIN ? "data.count" : "data.holdout";
        if (set != null && set == 0) return limit + " is 0: raise it, or remove it to use all " + count + " images";
        return "the embedded data set generates " + count + " images: set " + count + " to at least 1, e.g. "
                + count.substring("data.".length()) + ": 1000";
    }

    static Path path(DataConfig cfg) {
        if (cfg.path() == null) throw new DataException("data.path is required for kind " + cfg.kind());
        return Path.of(cfg.path());
    }

    static Path requireDirectory(Path dir, String what) {
        if (!Files.isDirectory(dir)) {
            throw new DataException(dir + ": " + what + " " + (Files.exists(dir) ? "is not a directory" : "not found"));
        }
        return dir;
    }

    static Path firstDirectory(Path dir, String... names) {
        for (String n : names) if (Files.isDirectory(dir.resolve(n))) return dir.resolve(n);
        return null;
    }

    /** {@code name.gz} if present, else {@code name} (the missing-file error then names the plain file). */
    static Path idxFile(Path dir, String name) {
        Path gz = dir.resolve(name + ".gz");
        return Files.exists(gz) ? gz : dir.resolve(name);
    }

    static FolderSource folder(Path dir, DataConfig cfg, int channels, int size) {
        return new FolderSource(dir.toString(), FolderSource.list(dir), channels, size, cfg.onBadImage());
    }

    /** A folder whose sub-folders are the classes {@code classes} (one class per sub-folder). */
    static FolderSource folder(Path dir, DataConfig cfg, int channels, int size, List<String> classes) {
        return new FolderSource(dir.toString(), FolderSource.list(dir), channels, size, cfg.onBadImage(), dir, classes);
    }

    static Splits heldOutFolder(Path dir, DataConfig cfg, int channels, int size, int holdout) {
        List<Path> files = FolderSource.list(dir);
        if (files.isEmpty()) {
            throw new DataException(dir + ": no PNG, JPEG or WebP images found (searched sub-folders too)");
        }
        List<String> names = files.stream().map(f -> FolderSource.relative(dir, f)).toList();
        HoldoutSplit split = HoldoutSplit.of(files.size(), holdout, cfg.seed());
        List<Path> train = new ArrayList<>();
        for (int i : split.train()) train.add(files.get(i));
        List<Path> test = new ArrayList<>();
        for (int i : split.test()) test.add(files.get(i));
        List<String> classes = FolderSource.classesOf(dir, files);
        return new Splits(new FolderSource(dir + " (train)", train, channels, size, cfg.onBadImage(), dir, classes),
                new FolderSource(dir + " (hold-out)", test, channels, size, cfg.onBadImage(), dir, classes),
                split.testNames(names));
    }

    private static final Pattern BATCH_NUMBER = Pattern.compile("(\\d+)\\.npz$");

    static Splits imagenet(DataConfig cfg, int channels, int size) {
        Path dir = requireDirectory(path(cfg), "ImageNet directory");
        List<Path> train = npzFiles(dir, "train_data_batch_");
        if (train.isEmpty() && Files.isDirectory(dir.resolve("train"))) train = npzFiles(dir.resolve("train"), "");
        if (!train.isEmpty()) {
            Path scratch = cfg.cache() != null ? createDirectories(Path.of(cfg.cache())) : null;
            List<Path> test = Files.exists(dir.resolve("val_data.npz")) ? List.of(dir.resolve("val_data.npz")) : List.of();
            Path valDir = firstDirectory(dir, "val", "valid", "test");
            if (test.isEmpty() && valDir != null) test = npzFiles(valDir, "");
            if (test.isEmpty()) {
                throw new DataException(dir + ": ImageNet .npz training batches found but no validation file"
                        + " (expected val_data.npz, or .npz files in val/ or valid/)");
            }
            return new Splits(new NpzSource(train, scratch), new NpzSource(test, scratch), List.of());
        }
        String s = "_" + size + "x" + size;
        Path trainDir = firstDirectory(dir, "train" + s, "train");
        Path testDir = firstDirectory(dir, "valid" + s, "valid", "val", "test");
        if (trainDir == null || testDir == null) {
            throw new DataException(dir + ": no ImageNet data found: expected train_data_batch_*.npz and"
                    + " val_data.npz, or PNG folders train" + s + "/ and valid" + s + "/ (or train/ and valid/)");
        }
        return new Splits(folder(trainDir, cfg, channels, size), folder(testDir, cfg, channels, size), List.of());
    }

    /** .npz files in {@code dir} whose name starts with {@code prefix}, ordered by their trailing number then name. */
    private static List<Path> npzFiles(Path dir, String prefix) {
        try (Stream<Path> list = Files.list(dir)) {
            return list.filter(p -> {
                String n = p.getFileName().toString();
                return n.startsWith(prefix) && n.endsWith(".npz");
            }).sorted(Comparator.comparingLong(DataSets::batchNumber).thenComparing(p -> p.getFileName().toString()))
                    .toList();
        } catch (IOException e) {
            throw new DataException(dir + ": cannot list directory (" + e.getMessage() + ")", e);
        }
    }

    private static long batchNumber(Path p) {
        Matcher m = BATCH_NUMBER.matcher(p.getFileName().toString());
        return m.find() ? Long.parseLong(m.group(1)) : Long.MAX_VALUE;
    }

    private static Path createDirectories(Path dir) {
        try {
            return Files.createDirectories(dir);
        } catch (IOException e) {
            throw new DataException(dir + ": cannot create the cache directory (" + e.getMessage() + ")", e);
        }
    }

    static Splits lsun(DataConfig cfg, int channels, int size) {
        Path dir = path(cfg);
        if (Files.isRegularFile(dir) || Files.isRegularFile(dir.resolve("data.mdb"))) {
            LmdbSource all = new LmdbSource(dir, channels, size, cfg.onBadImage());
            try {
                int holdout = cfg.holdout() != null ? cfg.holdout() : Math.max(1, Math.min(3000, all.size() / 10));
                HoldoutSplit split = HoldoutSplit.of(all.size(), holdout, cfg.seed());
                List<String> keys = new ArrayList<>();
                for (int i : split.test()) keys.add(all.key(i));
                return new Splits(new IndexedSource(all, split.train(), "train split"),
                        new IndexedSource(all, split.test(), "hold-out"), keys);
            } catch (RuntimeException e) {
                all.close();
                throw e;
            }
        }
        requireDirectory(dir, "LSUN directory");
        List<Path> trains = lmdbDirectories(dir, "_train_lmdb");
        if (trains.isEmpty() || lmdbDirectories(dir, "_val_lmdb").isEmpty()) {
            throw new DataException(dir + ": no LSUN database found: expected <category>_train_lmdb/ and"
                    + " <category>_val_lmdb/, or a directory holding data.mdb");
        }
        // one category, or several read as one and labelled by category (each needs its validation database)
        List<String> categories = new ArrayList<>();
        List<ImageSource> train = new ArrayList<>(), val = new ArrayList<>();
        try {
            for (Path t : trains) {
                String name = t.getFileName().toString();
                String category = name.substring(0, name.length() - "_train_lmdb".length());
                Path v = dir.resolve(category + "_val_lmdb");
                if (!Files.isDirectory(v)) {
                    throw new DataException(dir + ": " + name + "/ has no " + category + "_val_lmdb/ beside it: every"
                            + " category needs its validation database (or move " + name + "/ elsewhere)");
                }
                categories.add(category);
                train.add(new LmdbSource(t, channels, size, cfg.onBadImage()));
                val.add(new LmdbSource(v, channels, size, cfg.onBadImage()));
            }
            if (train.size() == 1) return new Splits(train.get(0), val.get(0), List.of());
            return new Splits(new CategorySource("lsun " + dir + " train", categories, train),
                    new CategorySource("lsun " + dir + " val", categories, val), List.of());
        } catch (RuntimeException e) {
            train.forEach(ImageSource::close);
            val.forEach(ImageSource::close);
            throw e;
        }
    }

    /** The sub-directories of {@code dir} whose names end in {@code suffix}, sorted. */
    private static List<Path> lmdbDirectories(Path dir, String suffix) {
        try (Stream<Path> list = Files.list(dir)) {
            return list.filter(p -> p.getFileName().toString().endsWith(suffix) && Files.isDirectory(p)).sorted()
                    .toList();
        } catch (IOException e) {
            throw new DataException(dir + ": cannot list directory (" + e.getMessage() + ")", e);
        }
    }
}
