package woodflow.data;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * Downsampled ImageNet (Chrabaszcz, Loshchilov and Hutter 2017; van den Oord et al. 2016) in its NumPy form: each
 * {@code .npz} file is a zip of {@code .npy} arrays whose {@code data} array is {@code N x (3 s s)} unsigned bytes, an
 * image's red, green and blue planes one after the other (CHW). A {@code (N, 3, s, s)} array is read the same way.
 *
 * <p>The {@code data} array of every file is unpacked once (stored or deflated) into a scratch file that is then
 * memory-mapped and unlinked, so images are read on demand and the heap holds none of them; the scratch space is the
 * size of the pixels (3.9 GB for the 32x32 training set).
 */
public final class NpzSource implements ImageSource {
    private final List<Path> files;
    private final List<MappedBytes> data = new ArrayList<>();
    private final int[] firstIndex;
    private final int side;
    private final int count;

    /** @param scratch directory for the unpacked arrays ({@code null}: the system temporary directory) */
    public NpzSource(List<Path> files, Path scratch) {
        if (files.isEmpty()) throw new DataException("no .npz files given");
        this.files = List.copyOf(files);
        firstIndex = new int[files.size() + 1];
        int s = -1;
        for (int f = 0; f < files.size(); f++) {
            Path file = files.get(f);
            Unpacked u = unpack(file, scratch);
            if (s >= 0 && u.side != s) {
                throw new DataException(file + ": images are " + u.side + "x" + u.side + " but " + files.get(0)
                        + " has " + s + "x" + s + "; use one resolution per data set");
            }
            s = u.side;
            data.add(u.bytes);
            firstIndex[f + 1] = Math.addExact(firstIndex[f], u.count);
        }
        side = s;
        count = firstIndex[files.size()];
    }

    private record Unpacked(MappedBytes bytes, int count, int side) {}

    private static Unpacked unpack(Path file, Path scratch) {
        if (!Files.exists(file)) throw new DataException(file + ": .npz file not found");
        try (ZipFile zip = new ZipFile(file.toFile())) {
            ZipEntry entry = zip.getEntry("data.npy");
            if (entry == null) {
                List<String> names = new ArrayList<>();
                zip.stream().forEach(e -> names.add(e.getName()));
                Collections.sort(names);
                throw new DataException(file + ": no 'data' array in the .npz (it holds " + names + ")");
            }
            String name = file + ":data.npy";
            try (InputStream in = zip.getInputStream(entry)) {
                NpyHeader h = NpyHeader.read(in, name);
                long[] shape = h.shape();
                long n = shape.length > 0 ? shape[0] : 0;
                long per = shape.length == 2 ? shape[1] : shape.length == 4 && shape[1] == 3 ? 3 * shape[2] * shape[3] : -1;
                int sd = (int) Math.round(Math.sqrt(per / 3.0));
                if (per <= 0 || 3L * sd * sd != per || (shape.length == 4 && shape[2] != shape[3])) {
                    throw new DataException(name + ": shape " + Arrays.toString(shape) + " is not N x (3*s*s)"
                            + " or N x 3 x s x s square RGB images in channel planes");
                }
                if (n > Integer.MAX_VALUE) throw new DataException(name + ": " + n + " images are too many for one file");
                Path tmp = scratch == null ? Files.createTempFile("woodflow-npz-", ".u8")
                        : Files.createTempFile(scratch, "woodflow-npz-", ".u8");
                try {
                    long copied;
                    try (OutputStream out = Files.newOutputStream(tmp)) {
                        copied = in.transferTo(out);
                    }
                    long expected = n * per;
                    if (copied != expected) {
                        throw new DataException(name + ": " + (copied < expected ? "truncated" : "too long") + ", "
                                + copied + " data bytes but shape " + Arrays.toString(shape) + " needs "
                                + expected);
                    }
                    return new Unpacked(new MappedBytes(tmp, 0, expected), (int) n, sd);
                } finally {
                    Files.deleteIfExists(tmp); // the mapping stays valid after unlinking
                }
            }
        } catch (NoSuchFileException e) {
            throw new DataException(file + ": .npz file not found");
        } catch (ZipException e) {
            throw new DataException(file + ": not a valid .npz (zip) file or truncated (" + e.getMessage() + ")", e);
        } catch (java.io.EOFException e) {
            throw new DataException(file + ": truncated .npz file (" + e.getMessage() + ")", e);
        } catch (IOException e) {
            throw new DataException(file + ": cannot read .npz (" + e.getMessage() + ")", e);
        }
    }

    @Override
    public int size() {
        return count;
    }

    @Override
    public int channels() {
        return 3;
    }

    @Override
    public int height() {
        return side;
    }

    @Override
    public int width() {
        return side;
    }

    @Override
    public byte[] image(int index) {
        if (index < 0 || index >= count) throw new IndexOutOfBoundsException(index + " of " + count);
        int f = 0;
        while (firstIndex[f + 1] <= index) f++;
        int per = 3 * side * side;
        byte[] out = new byte[per];
        data.get(f).get((long) (index - firstIndex[f]) * per, out, 0, per);
        return out;
    }

    @Override
    public String describe() {
        return "imagenet npz " + (files.size() == 1 ? files.get(0) : files.get(0).getParent() + " (" + files.size()
                + " files)") + ": " + count + " images, 3x" + side + "x" + side;
    }
}
