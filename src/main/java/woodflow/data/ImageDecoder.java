package woodflow.data;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Iterator;

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

    /** Decodes {@code bytes}; {@code name} (a file or key) is used in the error message. */
    public static BufferedImage decode(byte[] bytes, String name) {
        BufferedImage img;
        try {
            img = ImageIO.read(new ByteArrayInputStream(bytes));
        } catch (IOException | RuntimeException e) {
            throw new DataException(name + ": cannot decode image (" + e.getMessage() + ")", e);
        }
        if (img == null) {
            throw new DataException(name + ": not a readable image (" + bytes.length + " bytes; PNG, JPEG and WebP are"
                    + " supported)");
        }
        return img;
    }

    /** Reads only the header: width and height, or a {@link DataException} when no reader accepts the file. */
    public static int[] probe(Path file) {
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            if (in == null) throw new DataException(file + ": cannot open image file");
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) throw new DataException(file + ": not a readable image (PNG, JPEG and WebP are supported)");
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
        if (!indexed && (cs.getType() == ColorSpace.TYPE_GRAY && bands <= 2 || cs.isCS_sRGB() && bands >= 3)) {
            // Raw samples: avoids getRGB's colour conversion, which brightens linear-grey images.
            int colour = cs.getType() == ColorSpace.TYPE_GRAY ? 1 : 3;
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
