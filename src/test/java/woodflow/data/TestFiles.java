package woodflow.data;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Writers of small data files in the real formats, for the loader tests. */
final class TestFiles {
    private TestFiles() {}

    /**
     * A 12x8 lossless WebP (VP8L): columns 0-5 are (220, 40, 30), columns 6-11 are (30, 60, 210). TwelveMonkeys only
     * reads WebP, so it was made once with Debian's cwebp 1.2.4 ({@code cwebp -lossless -exact -z 9} from a PPM of
     * those pixels; {@code dwebp} gives the PPM back byte for byte) and is kept here as bytes.
     */
    static final byte[] WEBP_LOSSLESS_HALVES = bytes(
            0x52, 0x49, 0x46, 0x46, 0x26, 0x00, 0x00, 0x00, 0x57, 0x45, 0x42, 0x50,
            0x56, 0x50, 0x38, 0x4c, 0x1a, 0x00, 0x00, 0x00, 0x2f, 0x0b, 0xc0, 0x01,
            0x00, 0x10, 0x0a, 0x20, 0x3a, 0x41, 0xe4, 0x4f, 0xd6, 0x0c, 0xe0, 0x1e,
            0xdc, 0xf7, 0x90, 0xee, 0xff, 0x04, 0x50, 0x6a, 0x3e, 0x01);

    /**
     * A 16x16 lossy WebP (VP8, the form of most LSUN images) of the solid colour (90, 160, 60), made with
     * {@code cwebp -q 95}; libwebp's {@code dwebp} decodes it to (90, 161, 62) everywhere.
     */
    static final byte[] WEBP_LOSSY_SOLID = bytes(
            0x52, 0x49, 0x46, 0x46, 0x40, 0x00, 0x00, 0x00, 0x57, 0x45, 0x42, 0x50,
            0x56, 0x50, 0x38, 0x20, 0x34, 0x00, 0x00, 0x00, 0xf0, 0x01, 0x00, 0x9d,
            0x01, 0x2a, 0x10, 0x00, 0x10, 0x00, 0x00, 0x80, 0x08, 0x25, 0xa0, 0x02,
            0x74, 0xba, 0x01, 0xf8, 0x00, 0x04, 0xc8, 0x00, 0x00, 0xfe, 0x6f, 0x1f,
            0xff, 0x40, 0x23, 0xf4, 0x02, 0x3f, 0x40, 0x23, 0xff, 0x40, 0x23, 0xff,
            0xbe, 0x04, 0xfb, 0xc0, 0x9f, 0x78, 0x13, 0xfd, 0xb6, 0x00, 0x00, 0x00);

    static byte[] bytes(int... v) {
        byte[] b = new byte[v.length];
        for (int i = 0; i < v.length; i++) b[i] = (byte) v[i];
        return b;
    }

    /** An IDX3 image file: magic 0x00000803, big-endian N, H, W, then the pixels; image k has pixel value k*10+y+x. */
    static byte[] idx(int n, int h, int w) {
        ByteBuffer b = ByteBuffer.allocate(16 + n * h * w);
        b.putInt(0x00000803).putInt(n).putInt(h).putInt(w);
        for (int k = 0; k < n; k++) for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) b.put((byte) (k * 10 + y + x));
        return b.array();
    }

    static byte[] gzip(byte[] raw) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(raw);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return out.toByteArray();
    }

    /** A CIFAR-10 binary batch of {@code n} records; record k: label k % 10, channel c pixel i = (k + 3c + i) % 256. */
    static byte[] cifar(int n) {
        byte[] b = new byte[n * 3073];
        for (int k = 0; k < n; k++) {
            b[k * 3073] = (byte) (k % 10);
            for (int c = 0; c < 3; c++) for (int i = 0; i < 1024; i++) b[k * 3073 + 1 + c * 1024 + i] = (byte) (k + 3 * c + i);
        }
        return b;
    }

    /** A solid-colour RGB image. */
    static BufferedImage solid(int w, int h, int r, int g, int b) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) img.setRGB(x, y, (r << 16) | (g << 8) | b);
        return img;
    }

    static void write(BufferedImage img, String format, Path file) throws IOException {
        Files.createDirectories(file.getParent());
        if (!ImageIO.write(img, format, file.toFile())) throw new IOException("no writer for " + format);
    }

    static byte[] encode(BufferedImage img, String format) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (!ImageIO.write(img, format, out)) throw new IOException("no writer for " + format);
        return out.toByteArray();
    }

    /**
     * A .npy array as numpy writes it: magic {@code \x93NUMPY}, version 1.0, little-endian uint16 header length, the
     * dict literal padded with spaces and ended by a newline so that the data starts at a multiple of 64 bytes.
     */
    static byte[] npy(String descr, boolean fortran, long[] shape, byte[] data) {
        StringBuilder dims = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) dims.append(i == 0 ? "" : ", ").append(shape[i]);
        dims.append(shape.length == 1 ? ",)" : ")");
        String dict = "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': "
                + dims + ", }";
        int total = 10 + dict.length() + 1;
        int padded = (total + 63) / 64 * 64;
        String header = dict + " ".repeat(padded - total) + "\n";
        ByteBuffer b = ByteBuffer.allocate(10 + header.length() + data.length);
        b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0);
        b.put((byte) (header.length() & 255)).put((byte) (header.length() >> 8));
        b.put(header.getBytes(StandardCharsets.ISO_8859_1)).put(data);
        return b.array();
    }

    /** A .npz: a zip of {@code name.npy} entries, stored (np.savez) or deflated (np.savez_compressed). */
    static void npz(Path file, boolean compressed, String[] names, byte[][] arrays) throws IOException {
        try (OutputStream os = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(os)) {
            for (int i = 0; i < names.length; i++) {
                ZipEntry e = new ZipEntry(names[i] + ".npy");
                if (compressed) {
                    e.setMethod(ZipEntry.DEFLATED);
                } else {
                    e.setMethod(ZipEntry.STORED);
                    CRC32 crc = new CRC32();
                    crc.update(arrays[i]);
                    e.setSize(arrays[i].length);
                    e.setCompressedSize(arrays[i].length);
                    e.setCrc(crc.getValue());
                }
                zip.putNextEntry(e);
                zip.write(arrays[i]);
                zip.closeEntry();
            }
        }
    }
}
