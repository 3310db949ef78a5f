package woodflow.sample;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import woodflow.core.Tensors;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** Tiles 8-bit CHW images (1 or 3 channels) into one PNG, rows of {@code columns}, with a 2-pixel gutter. */
public final class ImageGrid {
    private static final int GAP = 2;

    private ImageGrid() {}

    /** Tiles at native size, or enlarged (nearest neighbour) so each image is at least 64 pixels high. */
    public static BufferedImage tile(List<byte[]> images, int c, int h, int w, int columns) {
        int scale = Math.max(1, 64 / h);
        return scale == 1 ? tileNative(images, c, h, w, columns) : enlarge(tileNative(images, c, h, w, columns), scale);
    }

    private static BufferedImage enlarge(BufferedImage img, int scale) {
        BufferedImage out = new BufferedImage(img.getWidth() * scale, img.getHeight() * scale,
                BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < out.getHeight(); y++) {
            for (int x = 0; x < out.getWidth(); x++) out.setRGB(x, y, img.getRGB(x / scale, y / scale));
        }
        return out;
    }

    public static BufferedImage tileNative(List<byte[]> images, int c, int h, int w, int columns) {
        if (c != 1 && c != 3) throw new IllegalArgumentException("can only draw 1- or 3-channel images, not " + c);
        int n = images.size();
        int cols = Math.max(1, Math.min(columns, n));
        int rows = Math.max(1, (n + cols - 1) / cols);
        BufferedImage out = new BufferedImage(cols * (w + GAP) + GAP, rows * (h + GAP) + GAP, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < out.getHeight(); y++) for (int x = 0; x < out.getWidth(); x++) out.setRGB(x, y, 0xFFFFFF);
        for (int i = 0; i < n; i++) {
            byte[] im = images.get(i);
            int ox = GAP + (i % cols) * (w + GAP), oy = GAP + (i / cols) * (h + GAP);
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int r = im[y * w + x] & 0xFF, g = r, b = r;
                    if (c == 3) {
                        g = im[h * w + y * w + x] & 0xFF;
                        b = im[2 * h * w + y * w + x] & 0xFF;
                    }
                    out.setRGB(ox + x, oy + y, (r << 16) | (g << 8) | b);
                }
            }
        }
        return out;
    }

    /** Splits a (B, C, H, W) uint8 tensor into CHW byte arrays. */
    public static List<byte[]> images(Tensor uint8) {
        Tensor t = uint8.to(ScalarType.Byte);
        int b = (int) t.size(0), per = (int) (t.numel() / Math.max(1, b));
        byte[] all = Tensors.toBytes(t);
        List<byte[]> out = new java.util.ArrayList<>();
        for (int i = 0; i < b; i++) out.add(java.util.Arrays.copyOfRange(all, i * per, (i + 1) * per));
        return out;
    }

    public static void write(Tensor uint8, int columns, Path png) throws IOException {
        write(images(uint8), (int) uint8.size(1), (int) uint8.size(2), (int) uint8.size(3), columns, png);
    }

    public static void write(List<byte[]> images, int c, int h, int w, int columns, Path png) throws IOException {
        woodflow.io.AtomicFiles.write(png, pngBytes(tile(images, c, h, w, columns)));
    }

    public static byte[] pngBytes(BufferedImage img) throws IOException {
        ByteArrayOutputStream bo = new ByteArrayOutputStream();
        ImageIO.write(img, "png", bo);
        return bo.toByteArray();
    }
}
