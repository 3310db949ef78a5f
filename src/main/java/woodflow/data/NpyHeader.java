package woodflow.data;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The header of a NumPy {@code .npy} array (format versions 1.0, 2.0 and 3.0): the magic {@code \x93NUMPY}, major
 * and minor version bytes, the header length (little-endian uint16 in version 1, uint32 in 2 and 3), then a Python
 * dict literal such as {@code {'descr': '|u1', 'fortran_order': False, 'shape': (10, 3072), }} padded with spaces
 * and a newline so the data starts at a multiple of 64 bytes. Only what image data needs is accepted: unsigned
 * bytes in C order.
 *
 * @param shape       the array's shape
 * @param headerBytes bytes before the data (magic, lengths and the dict)
 */
public record NpyHeader(long[] shape, int headerBytes) {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    /** Reads the header from the start of {@code in}, leaving the stream at the first data byte. */
    public static NpyHeader read(InputStream in, String name) {
        try {
            DataInputStream d = new DataInputStream(in);
            byte[] magic = new byte[8];
            d.readFully(magic);
            if (!Arrays.equals(Arrays.copyOf(magic, 6), MAGIC)) {
                throw new DataException(name + ": not a .npy array (wrong magic bytes; expected \\x93NUMPY)");
            }
            int major = magic[6] & 255;
            int length;
            int prefix;
            if (major == 1) {
                length = (d.readUnsignedByte()) | (d.readUnsignedByte() << 8);
                prefix = 10;
            } else if (major == 2 || major == 3) {
                length = d.readUnsignedByte() | (d.readUnsignedByte() << 8) | (d.readUnsignedByte() << 16)
                        | (d.readUnsignedByte() << 24);
                prefix = 12;
            } else {
                throw new DataException(name + ": unsupported .npy format version " + major + "." + (magic[7] & 255)
                        + " (versions 1, 2 and 3 are read)");
            }
            if (length < 0 || length > (1 << 24)) {
                throw new DataException(name + ": impossible .npy header length " + length);
            }
            byte[] dict = new byte[length];
            d.readFully(dict);
            String text = new String(dict, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
            return new NpyHeader(parseShape(text, name), prefix + length);
        } catch (EOFException e) {
            throw new DataException(name + ": truncated .npy header", e);
        } catch (IOException e) {
            throw new DataException(name + ": cannot read .npy header (" + e.getMessage() + ")", e);
        }
    }

    private static long[] parseShape(String dict, String name) {
        Matcher descr = DESCR.matcher(dict);
        Matcher fortran = FORTRAN.matcher(dict);
        Matcher shape = SHAPE.matcher(dict);
        if (!descr.find() || !fortran.find() || !shape.find()) {
            throw new DataException(name + ": malformed .npy header dict " + dict.trim());
        }
        String type = descr.group(1);
        if (!type.equals("|u1") && !type.equals("u1") && !type.equals("<u1") && !type.equals(">u1")) {
            throw new DataException(name + ": array dtype is '" + type + "', expected unsigned bytes '|u1' (uint8)");
        }
        if (fortran.group(1).equals("True")) {
            throw new DataException(name + ": array is in Fortran (column-major) order; save it in C order");
        }
        String[] parts = shape.group(1).split(",");
        long[] dims = Arrays.stream(parts).map(String::trim).filter(s -> !s.isEmpty()).mapToLong(s -> {
            try {
                return Long.parseLong(s.endsWith("L") ? s.substring(0, s.length() - 1) : s);
            } catch (NumberFormatException e) {
                throw new DataException(name + ": malformed shape (" + shape.group(1) + ") in the .npy header");
            }
        }).toArray();
        return dims;
    }

    /** Number of elements: the product of the shape. */
    public long elements() {
        long n = 1;
        for (long s : shape) n *= s;
        return n;
    }
}
