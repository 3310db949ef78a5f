package woodflow.data;

import com.fasterxml.jackson.annotation.JsonCreator;
import woodflow.core.Choice;
import woodflow.core.Choices;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The format of a data set ({@code data.kind}, {@code data --kind}): each constant opens its training and test
 * sets from a {@link DataConfig} (the file layouts are listed in {@link DataSets}), and knows its natural image
 * size and whether it is grey.
 */
public enum DataKind implements Choice {
    /** Generated images, no files: data.count training images (default 10000), data.holdout test images (1000). */
    EMBEDDED(false, 32, List.of(), List.of()) {
        @Override
        public Splits open(DataConfig cfg, int channels, int size) {
            int count = cfg.count() != null ? cfg.count() : 10000;
            int test = cfg.holdout() != null ? cfg.holdout() : 1000;
            EmbeddedStyle style = cfg.style() != null ? cfg.style() : EmbeddedStyle.SCENES;
            return new Splits(style.source(count, channels, size, cfg.seed(), 0),
                    style.source(test, channels, size, cfg.seed(), count), List.of());
        }
    },
    /** IDX files (plain or gzipped), padded to data.size. */
    IDX(true, 32, List.of("train-images-idx3-ubyte", "train-images-idx3-ubyte.gz"), List.of()) {
        @Override
        public Splits open(DataConfig cfg, int channels, int size) {
            return idx(cfg, cfg.path() != null ? Path.of(cfg.path()) : null, size, null);
        }
    },
    /** MNIST's IDX files: as {@link #IDX}. */
    MNIST(true, 32, List.of(), List.of()) {
        @Override
        public Splits open(DataConfig cfg, int channels, int size) {
            return idx(cfg, cfg.path() != null ? Path.of(cfg.path()) : null, size, ClassLabels.numbered(10));
        }
    },
    /** Fashion-MNIST's IDX files, by default from Debian's dataset-fashion-mnist. */
    FASHION_MNIST(true, 32, List.of(), List.of("fashion", "mnist")) {
        @Override
        public Splits open(DataConfig cfg, int channels, int size) {
            return idx(cfg, cfg.path() != null ? Path.of(cfg.path()) : DataSets.FASHION_MNIST, size,
                    FASHION_MNIST_CLASSES);
        }
    },
    /** CIFAR-10's binary batches. */
    CIFAR10(false, 32, List.of("data_batch_1", "data_batch_1.bin", "cifar-10-batches-bin"), List.of("cifar")) {
        @Override
        public Splits open(DataConfig cfg, int channels, int size) {
            Path dir = DataSets.requireDirectory(DataSets.path(cfg), "CIFAR-10 directory");
            if (Files.isDirectory(dir.resolve("cifar-10-batches-bin"))) dir = dir.resolve("cifar-10-batches-bin");
            List<Path> train = new ArrayList<>();
            for (int i = 1; i <= 5; i++) train.add(Cifar10Source.batch(dir, "data_batch_" + i));
            return new Splits(new Cifar10Source(train),
                    new Cifar10Source(List.of(Cifar10Source.batch(dir, "test_batch"))), List.of());
        }
    },
    /** Downsampled ImageNet as .npz batches or PNG folders. */
    IMAGENET(false, 32, List.of(), List.of("imagenet")) {
        @Override
        public Splits open(DataConfig cfg, int channels, int size) {
            return DataSets.imagenet(cfg, channels, size);
        }
    },
    /** LSUN: LMDB databases of encoded images. */
    LSUN(false, 96, List.of("data.mdb"), List.of("lmdb")) {
        @Override
        public Splits open(DataConfig cfg, int channels, int size) {
            return DataSets.lsun(cfg, channels, size);
        }
    },
    /** CelebA-HQ: a folder of images with a seeded hold-out of data.holdout (default 3000) test images. */
    CELEBA(false, 64, List.of(), List.of("celeba")) {
        @Override
        public Splits open(DataConfig cfg, int channels, int size) {
            Path dir = DataSets.requireDirectory(DataSets.path(cfg), "CelebA-HQ image folder");
            return DataSets.heldOutFolder(dir, cfg, channels, size, cfg.holdout() != null ? cfg.holdout() : 3000);
        }
    },
    /** A folder of PNG/JPEG/WebP images: train/ and test/ sub-folders, or one folder with a seeded hold-out. */
    FOLDER(false, 64, List.of(), List.of()) {
        @Override
        public Splits open(DataConfig cfg, int channels, int size) {
            Path dir = DataSets.requireDirectory(DataSets.path(cfg), "image folder");
            Path test = DataSets.firstDirectory(dir, "test", "valid", "val");
            if (Files.isDirectory(dir.resolve("train")) && test != null) {
                // the training folder's class sub-folders name the classes of both
                List<String> classes = FolderSource.classesOf(dir.resolve("train"),
                        FolderSource.list(dir.resolve("train")));
                return new Splits(DataSets.folder(dir.resolve("train"), cfg, channels, size, classes),
                        DataSets.folder(test, cfg, channels, size, classes), List.of());
            }
            int n = FolderSource.list(dir).size();
            return DataSets.heldOutFolder(dir, cfg, channels, size, cfg.holdout() != null ? cfg.holdout()
                    : Math.max(1, Math.min(3000, n / 10)));
        }
    };

    private final boolean grey;
    private final int naturalSize;
    /** Files (or folders) whose presence in a data folder says it is of this kind. */
    private final List<String> markers;
    /** Parts of a folder's name that suggest this kind when no file says. */
    private final List<String> nameHints;

    DataKind(boolean grey, int naturalSize, List<String> markers, List<String> nameHints) {
        this.grey = grey;
        this.naturalSize = naturalSize;
        this.markers = markers;
        this.nameHints = nameHints;
    }

    /** A kind guessed from a data path, and what it was guessed from. */
    public record Guess(DataKind kind, String from) {}

    /**
     * The kind of a data path and why: first by the files in the folder (IDX, CIFAR-10 batches, LMDB, .npz batches),
     * then by its name, else a folder of images; {@link #EMBEDDED} for no path.
     */
    public static Guess guess(Path p) {
        if (p == null) return new Guess(EMBEDDED, "no path");
        if (!Files.exists(p)) throw new IllegalArgumentException(p + " does not exist");
        if (!Files.isDirectory(p)) {
            throw new IllegalArgumentException(p + " is a file: give the folder that holds the data set's files ("
                    + (p.getParent() == null ? "." : p.getParent()) + ")");
        }
        for (DataKind k : values()) {
            for (String f : k.markers) if (Files.exists(p.resolve(f))) return new Guess(k, f);
        }
        try (var files = Files.list(p)) {
            var npz = files.filter(f -> f.getFileName().toString().endsWith(".npz")).findFirst();
            if (npz.isPresent()) return new Guess(IMAGENET, npz.get().getFileName().toString());
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException(p + ": cannot list the folder (" + e.getMessage() + ")");
        }
        String n = p.getFileName() == null ? "" : p.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
        for (DataKind k : values()) {
            for (String hint : k.nameHints) if (n.contains(hint)) return new Guess(k, "the folder's name");
        }
        return new Guess(FOLDER, "no known data files");
    }

    @Override
    public String toString() {
        return label();
    }

    /** The kind named {@code name} (any case); an unknown name is an error that lists the known ones. */
    @JsonCreator
    public static DataKind parse(String name) {
        return Choices.parse(DataKind.class, name, "data.kind");
    }

    /** Whether the format's images are grey (one channel) unless data.channels says otherwise. */
    public boolean grey() {
        return grey;
    }

    /** The image size data inspect and data cache use when neither data.size nor a model decides it. */
    public int naturalSize() {
        return naturalSize;
    }

    /** Opens this format's training and test sets as they are stored, before limits, checks and caching. */
    public abstract Splits open(DataConfig cfg, int channels, int size);

    /** Fashion-MNIST's ten classes, in label order (Xiao, Rasul and Vollgraf 2017), as names one can type. */
    public static final List<String> FASHION_MNIST_CLASSES = List.of("t-shirt", "trouser", "pullover", "dress", "coat",
            "sandal", "shirt", "sneaker", "bag", "ankle-boot");

    /**
     * Training and test images of IDX files, with the label files beside them ({@code train-labels-idx1-ubyte},
     * {@code t10k-labels-idx1-ubyte}, plain or gzipped; read only if a model asks for labels) named by
     * {@code classNames}.
     */
    private static Splits idx(DataConfig cfg, Path dir, int size, List<String> classNames) {
        if (dir == null) throw new DataException("data.path is required for kind " + cfg.kind());
        DataSets.requireDirectory(dir, "IDX data directory (install Debian's dataset-fashion-mnist for Fashion-MNIST)");
        // the limits are applied while reading: only the images kept are held in memory
        IdxSource train = new IdxSource(DataSets.idxFile(dir, "train-images-idx3-ubyte"), size, cfg.trainLimit(),
                DataSets.idxFile(dir, "train-labels-idx1-ubyte"), classNames);
        return new Splits(train, new IdxSource(DataSets.idxFile(dir, "t10k-images-idx3-ubyte"), size,
                cfg.testLimit(), DataSets.idxFile(dir, "t10k-labels-idx1-ubyte"), classNames), List.of());
    }
}
