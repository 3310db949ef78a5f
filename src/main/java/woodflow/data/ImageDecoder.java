package woodflow.data;

import com.twelvemonkeys.imageio.stream.ByteArrayImageInputStream;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ComponentSampleModel;
import java.awt.image.DataBufferByte;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Encoded image bytes (PNG, JPEG, WebP through the TwelveMonkeys plug-ins, or anything else ImageIO reads) to a square
 * CHW byte image of the model's size: decode, centre-crop to the largest square, convert to grey or RGB, resize with
 * {@link Resampler}. Grey is the ITU-R BT.601 luma {@code 0.299 R + 0.587 G + 0.114 B}; a grey image asked for in RGB
 * repeats its plane three times.
 */
public final class ImageDecoder {
    static {
        // Decode from memory only: ImageIO's default disk cache would write a temporary file for every image.
        ImageIO.setUseCache(false);
    }

    private ImageDecoder() {}

    /** Per decoding thread, one reusable reader per format: creating a reader costs more than decoding a small JPEG. */
    private static final ThreadLocal<Map<String, List<ImageReader>>> READERS = ThreadLocal.withInitial(HashMap::new);

    /** Decodes {@code bytes}; {@code name} (a file or key) is used in the error message. */
    public static BufferedImage decode(byte[] bytes, String name) {
        String format = sniff(bytes);
        BufferedImage img;
        try {
            img = format == null ? ImageIO.read(new ByteArrayInputStream(bytes)) : readWithCachedReader(bytes, format);
        } catch (IOException | RuntimeException e) {
            throw new DataException(name + ": cannot decode image (" + e.getMessage() + ")", e);
        }
        if (img == null) {
            throw new DataException(name + ": not a readable image (" + bytes.length + " bytes; PNG, JPEG and WebP are"
                    + " supported)");
        }
        return img;
    }

    /** The format named by the first bytes (JPEG, PNG, WebP), or null to let ImageIO try every reader. */
    private static String sniff(byte[] b) {
        if (b.length >= 3 && (b[0] & 255) == 0xFF && (b[1] & 255) == 0xD8 && (b[2] & 255) == 0xFF) return "jpeg";
        if (b.length >= 8 && (b[0] & 255) == 0x89 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G') return "png";
        if (b.length >= 12 && b[0] == 'R' && b[1] == 'I' && b[2] == 'F' && b[3] == 'F' && b[8] == 'W' && b[9] == 'E'
                && b[10] == 'B' && b[11] == 'P') {
            return "webp";
        }
        return null;
    }

    /**
     * Tries the readers of {@code format} in order, each kept per thread for reuse. For JPEG the JDK's own reader
     * goes first: on ordinary YCbCr files it is about 1.6x faster than TwelveMonkeys' (measured here on 96x96
     * images); it refuses CMYK/YCCK files, which then go to TwelveMonkeys' reader and come out in correct colours.
     */
    private static BufferedImage readWithCachedReader(byte[] bytes, String format) throws IOException {
        Map<String, List<ImageReader>> cache = READERS.get();
        List<ImageReader> readers = cache.computeIfAbsent(format, ImageDecoder::readersFor);
        if (readers.isEmpty()) return ImageIO.read(new ByteArrayInputStream(bytes));
        IOException firstIo = null;
        RuntimeException firstRuntime = null;
        for (int k = 0; k < readers.size(); k++) {
            ImageReader reader = readers.get(k);
            try (ImageInputStream in = new ByteArrayImageInputStream(bytes)) {
                reader.setInput(in, true, true);
                BufferedImage img = reader.read(0);
                reader.setInput(null);
                return img;
            } catch (IOException | RuntimeException e) {
                // a reader that failed may hold broken state: replace it with a fresh one of the same kind
                ImageReader fresh = reader.getOriginatingProvider() == null ? null : newReader(reader);
                reader.dispose();
                if (fresh != null) readers.set(k, fresh);
                else readers.remove(k--);
                if (e instanceof IOException io && firstIo == null && firstRuntime == null) firstIo = io;
                if (e instanceof RuntimeException r && firstIo == null && firstRuntime == null) firstRuntime = r;
            }
        }
        if (firstIo != null) throw firstIo;
        if (firstRuntime != null) throw firstRuntime;
        throw new IOException("no " + format + " reader accepted the data");
    }

    private static List<ImageReader> readersFor(String format) {
        List<ImageReader> readers = new ArrayList<>();
        ImageIO.getImageReadersByFormatName(format).forEachRemaining(readers::add);
        if (format.equals("jpeg")) {
            readers.sort(Comparator.comparingInt(r -> r.getClass().getName().startsWith("com.sun.") ? 0 : 1));
        }
        return readers;
    }

    private static ImageReader newReader(ImageReader old) {
        try {
            return old.getOriginatingProvider().createReaderInstance();
        } catch (IOException e) {
            return null;
        }
    }

    /** Reads only the header: width and height, or a {@link DataException} when no reader accepts the file. */
    public static int[] probe(Path file) {
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            if (in == null) throw new DataException(file + ": cannot open image file");
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new DataException(file + ": not a readable image (PNG, JPEG and WebP are supported)");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                int w = reader.getWidth(0);
                int h = reader.getHeight(0);
                if (w <= 0 || h <= 0) throw new DataException(file + ": image header gives size " + w + "x" + h);
                return new int[] {w, h};
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof DataException d) throw d;
            throw new DataException(file + ": cannot read image header (" + e.getMessage() + ")", e);
        }
    }

    /** Decode, centre-crop, convert and resize in one call. */
    public static byte[] toChw(byte[] bytes, String name, int channels, int size) {
        return toChw(decode(bytes, name), channels, size);
    }

    /** Centre-crops {@code img} to a square, converts it to {@code channels} (1 or 3) and resizes to {@code size}. */
    public static byte[] toChw(BufferedImage img, int channels, int size) {
        if (channels != 1 && channels != 3) {
            throw new DataException("image folders give 1 (grey) or 3 (RGB) channels, not " + channels);
        }
        int side = Math.min(img.getWidth(), img.getHeight());
        int x0 = (img.getWidth() - side) / 2;
        int y0 = (img.getHeight() - side) / 2;
        float[] planes = planes(img, x0, y0, side, channels);
        return Resampler.resize(planes, channels, side, size);
    }

    /** The crop as {@code channels} float planes with values 0..255. */
    private static float[] planes(BufferedImage img, int x0, int y0, int side, int channels) {
        int n = side * side;
        float[] out = new float[channels * n];
        Raster raster = img.getRaster();
        ColorSpace cs = img.getColorModel().getColorSpace();
        boolean indexed = img.getColorModel() instanceof IndexColorModel;
        int bands = raster.getNumBands();
        boolean grey = cs.getType() == ColorSpace.TYPE_GRAY && bands <= 2;
        if (!indexed && (grey || cs.isCS_sRGB() && bands >= 3)) {
            int colour = grey ? 1 : 3;
            if (bytePlanes(raster, x0, y0, side, colour, channels, out)) return out;
            // Raw samples: avoids getRGB's colour conversion, which brightens linear-grey images.
            float[] scale = new float[colour];
            for (int b = 0; b < colour; b++) scale[b] = 255f / ((1 << raster.getSampleModel().getSampleSize(b)) - 1);
            int[] px = raster.getPixels(x0, y0, side, side, (int[]) null);
            for (int i = 0; i < n; i++) {
                int o = i * bands;
                if (colour == 1) {
                    float g = px[o] * scale[0];
                    for (int c = 0; c < channels; c++) out[c * n + i] = g;
                } else {
                    store(out, i, n, channels, px[o] * scale[0], px[o + 1] * scale[1], px[o + 2] * scale[2]);
                }
            }
            return out;
        }
        int[] argb = img.getRGB(x0, y0, side, side, null, 0, side);
        for (int i = 0; i < n; i++) {
            int p = argb[i];
            store(out, i, n, channels, (p >> 16) & 255, (p >> 8) & 255, p & 255);
        }
        return out;
    }

    /**
     * Fast path for 8-bit interleaved rasters (what the JPEG, PNG and WebP readers return for colour and grey
     * images): reads the bytes directly instead of one virtual call per sample. False if the raster is another kind.
     */
    private static boolean bytePlanes(Raster raster, int x0, int y0, int side, int colour, int channels, float[] out) {
        if (!(raster.getDataBuffer() instanceof DataBufferByte buffer)
                || !(raster.getSampleModel() instanceof ComponentSampleModel sm)
                || buffer.getNumBanks() != 1) {
            return false;
        }
        for (int b = 0; b < colour; b++) if (sm.getSampleSize(b) != 8) return false;
        byte[] data = buffer.getData();
        int stride = sm.getPixelStride();
        int scan = sm.getScanlineStride();
        int[] offsets = sm.getBandOffsets();
        int base = buffer.getOffset() + (y0 - raster.getSampleModelTranslateY()) * scan
                + (x0 - raster.getSampleModelTranslateX()) * stride;
        int n = side * side;
        for (int y = 0; y < side; y++) {
            int row = base + y * scan;
            for (int x = 0; x < side; x++) {
                int p = row + x * stride;
                int i = y * side + x;
                if (colour == 1) {
                    float g = data[p + offsets[0]] & 255;
                    for (int c = 0; c < channels; c++) out[c * n + i] = g;
                } else {
                    store(out, i, n, channels, data[p + offsets[0]] & 255, data[p + offsets[1]] & 255,
                            data[p + offsets[2]] & 255);
                }
            }
        }
        return true;
    }

    private static void store(float[] out, int i, int n, int channels, float r, float g, float b) {
        if (channels == 1) {
            out[i] = 0.299f * r + 0.587f * g + 0.114f * b;
        } else {
            out[i] = r;
            out[n + i] = g;
            out[2 * n + i] = b;
        }
    }
}
