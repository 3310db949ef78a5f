package woodflow.data;

import org.lmdbjava.ByteArrayProxy;
import org.lmdbjava.CursorIterable;
import org.lmdbjava.Dbi;
import org.lmdbjava.Env;
import org.lmdbjava.EnvFlags;
import org.lmdbjava.LmdbException;
import org.lmdbjava.Txn;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * LSUN (Yu et al. 2015) as distributed: an LMDB database whose keys are image ids and whose values are encoded JPEG or
 * WebP images. Opened read-only without the lock file or thread-local readers ({@code MDB_RDONLY_ENV, MDB_NOLOCK,
 * MDB_NOTLS}), so a database on a read-only disk works and decoding threads share it. The keys are listed once at
 * opening (LMDB keeps them sorted, so the order is fixed); values are read and decoded on demand, centre-cropped and
 * resized by {@link ImageDecoder}. A value that does not decode is fatal or, with {@code on_bad_image: skip}, counted
 * and replaced by the next decodable one.
 */
public final class LmdbSource implements ImageSource {
    private final Path path;
    private final Env<byte[]> env;
    private final Dbi<byte[]> dbi;
    private final List<byte[]> keys;
    private final int channels;
    private final int size;
    private final boolean skipBad;
    private final AtomicInteger undecodable = new AtomicInteger();
    private boolean closed;

    public LmdbSource(Path path, int channels, int size, BadImagePolicy onBadImage) {
        this.path = path;
        this.channels = channels;
        this.size = size;
        this.skipBad = onBadImage == BadImagePolicy.SKIP;
        boolean file = Files.isRegularFile(path);
        if (!file && !Files.isRegularFile(path.resolve("data.mdb"))) {
            throw new DataException(path + ": no LMDB database here (expected a directory holding data.mdb, or the"
                    + " data.mdb file itself)");
        }
        List<EnvFlags> flags = new ArrayList<>(List.of(EnvFlags.MDB_RDONLY_ENV, EnvFlags.MDB_NOLOCK, EnvFlags.MDB_NOTLS));
        if (file) flags.add(EnvFlags.MDB_NOSUBDIR);
        try {
            env = Env.create(ByteArrayProxy.PROXY_BA).setMaxReaders(1024).open(path.toFile(),
                    flags.toArray(new EnvFlags[0]));
        } catch (LmdbException e) {
            throw new DataException(path + ": not a readable LMDB database (" + e.getMessage() + ")", e);
        }
        try {
            dbi = env.openDbi((byte[]) null);
            keys = new ArrayList<>();
            try (Txn<byte[]> txn = env.txnRead(); CursorIterable<byte[]> it = dbi.iterate(txn)) {
                for (CursorIterable.KeyVal<byte[]> kv : it) keys.add(kv.key());
            }
        } catch (LmdbException e) {
            env.close();
            throw new DataException(path + ": cannot read the LMDB database (" + e.getMessage() + ")", e);
        }
    }

    @Override
    public int size() {
        return keys.size();
    }

    @Override
    public int channels() {
        return channels;
    }

    @Override
    public int height() {
        return size;
    }

    @Override
    public int width() {
        return size;
    }

    /** The key of image {@code index}, as text (LSUN's keys are ASCII ids). */
    public String key(int index) {
        return new String(keys.get(index), StandardCharsets.ISO_8859_1);
    }

    @Override
    public byte[] image(int index) {
        if (index < 0 || index >= keys.size()) throw new IndexOutOfBoundsException(index + " of " + keys.size());
        DataException first = null;
        for (int k = 0; k < keys.size(); k++) {
            int i = (index + k) % keys.size();
            String name = path + " key " + key(i);
            try {
                byte[] value;
                try (Txn<byte[]> txn = env.txnRead()) {
                    value = dbi.get(txn, keys.get(i));
                }
                if (value == null) throw new DataException(name + ": key vanished from the database");
                return ImageDecoder.toChw(value, name, channels, size);
            } catch (LmdbException e) {
                throw new DataException(name + ": LMDB read failed (" + e.getMessage() + ")", e);
            } catch (DataException e) {
                if (!skipBad) throw new DataException(e.getMessage() + " (set data.on_bad_image to \"skip\" to leave"
                        + " such images out)", e);
                undecodable.incrementAndGet();
                if (first == null) first = e;
            }
        }
        throw new DataException(path + ": no value in the database decodes; first error: " + first.getMessage(), first);
    }

    /** Values that failed to decode so far (each replaced by the next decodable one). */
    public int undecodable() {
        return undecodable.get();
    }

    @Override
    public String describe() {
        int bad = undecodable.get();
        return "lmdb " + path + ": " + keys.size() + " images resized to " + channels + "x" + size + "x" + size
                + (bad > 0 ? ", " + bad + " undecodable skipped" : "");
    }

    /** Closes the database; a hold-out's train and test views share one source, so a second call does nothing. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        env.close();
    }
}
