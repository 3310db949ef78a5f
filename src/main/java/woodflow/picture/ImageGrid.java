package woodflow.picture;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import woodflow.core.Tensors;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.awt.image.WritableRaster;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Tiles CHW uint8 images (1 channel grey or 3 channels RGB) into one PNG: {@code columns} per row, 2 black pixels
 * between tiles and around the border (as torchvision's {@code make_grid}). Used for data previews and the
 * trainer's sample grids.
 */
public final class ImageGrid {
    public static final int PADDING = 2;

    private ImageGrid() {}

    /** The grid as an RGB image. */
    public static BufferedImage render(List<byte[]> images, int c, int h, int w, int columns) {
        if (c != 1 && c != 3) throw new IllegalArgumentException("image grids need 1 or 3 channels, got " + c);
        if (images.isEmpty()) throw new IllegalArgumentException("an image grid needs at least one image");
        if (columns <= 0) throw new IllegalArgumentException("columns must be positive, got " + columns);
        int cols = Math.min(columns, images.size());
        int rows = (images.size() + cols - 1) / cols;
        BufferedImage out = new BufferedImage(cols * (w + PADDING) + PADDING, rows * (h + PADDING) + PADDING,
                BufferedImage.TYPE_3BYTE_BGR);
        WritableRaster r = out.getRaster();
        int n = h * w;
        int[] rgb = new int[3 * n];
        for (int k = 0; k < images.size(); k++) {
            byte[] im = images.get(k);
            if (im.length != c * n) {
                throw new IllegalArgumentException("image " + k + " has " + im.length + " bytes, expected " + c + "x"
                        + h + "x" + w);
            }
            for (int i = 0; i < n; i++) {
                for (int b = 0; b < 3; b++) rgb[3 * i + b] = im[(c == 1 ? 0 : b) * n + i] & 255;
            }
            int x0 = PADDING + (k % cols) * (w + PADDING);
            int y0 = PADDING + (k / cols) * (h + PADDING);
            r.setPixels(x0, y0, w, h, rgb);
        }
        return out;
    }

    /** Labels of a grid for a person: a title line, one label per row (left) and per column (top); empty: none. */
    public record Labels(String title, List<String> rows, List<String> columns) {
        public Labels {
            rows = List.copyOf(rows);
            columns = List.copyOf(columns);
        }

        /** Rows labelled by the number of their first image (1, 9, 17, ...), columns 1..n. */
        public static Labels numbered(String title, int images, int columns) {
            int cols = Math.min(columns, images);
            List<String> r = new ArrayList<>(), c = new ArrayList<>();
            for (int i = 0; i < images; i += cols) r.add(Integer.toString(i + 1));
            for (int i = 0; i < cols; i++) c.add(Integer.toString(i + 1));
            return new Labels(title, r, c);
        }
    }

    /** How many times a tile of height {@code h} is enlarged so that it is at least 64 pixels high. */
    public static int viewingScale(int h) {
        return scaleFor(h, 64);
    }

    /** How many times a tile of height {@code h} is enlarged so that it is at least {@code pixels} high. */
    public static int scaleFor(int h, int pixels) {
        return Math.max(1, (pixels + h - 1) / h);
    }

    /** The grid enlarged (nearest neighbour) so that each tile is at least 64 pixels high: for reports. */
    public static BufferedImage renderForViewing(List<byte[]> images, int c, int h, int w, int columns) {
        return scale(render(images, c, h, w, columns), viewingScale(h));
    }

    private static BufferedImage scale(BufferedImage img, int scale) {
        if (scale == 1) return img;
        BufferedImage out = new BufferedImage(img.getWidth() * scale, img.getHeight() * scale,
                BufferedImage.TYPE_3BYTE_BGR);
        java.awt.Graphics2D g = out.createGraphics();
        g.setRenderingHint(java.awt.RenderingHints.KEY_INTERPOLATION,
                java.awt.RenderingHints.VALUE_INTERPOLATION_NEAREST_NEIGHBOR);
        g.drawImage(img, 0, 0, out.getWidth(), out.getHeight(), null);
        g.dispose();
        return out;
    }

    /**
     * The grid enlarged as {@link #renderForViewing}, on a white page with a title above it, the column labels
     * above the columns and the row labels left of the rows (e.g. the temperatures of a sweep).
     */
    public static BufferedImage renderLabelled(List<byte[]> images, int c, int h, int w, int columns, Labels labels) {
        return renderLabelled(images, c, h, w, columns, labels, viewingScale(h));
    }

    /** {@link #renderLabelled} with the tiles enlarged {@code scale} times. */
    public static BufferedImage renderLabelled(List<byte[]> images, int c, int h, int w, int columns, Labels labels,
            int scale) {
        int cols = Math.min(columns, images.size());
        int rows = (images.size() + cols - 1) / cols;
        if (!labels.rows().isEmpty() && labels.rows().size() != rows) {
            throw new IllegalArgumentException(labels.rows().size() + " row labels for " + rows + " rows");
        }
        if (!labels.columns().isEmpty() && labels.columns().size() != cols) {
            throw new IllegalArgumentException(labels.columns().size() + " column labels for " + cols + " columns");
        }
        BufferedImage grid = scale(render(images, c, h, w, columns), scale);
        java.awt.Font font = new java.awt.Font(java.awt.Font.SANS_SERIF, java.awt.Font.PLAIN, 13);
        BufferedImage probe = new BufferedImage(1, 1, BufferedImage.TYPE_3BYTE_BGR);
        java.awt.Graphics2D pg = probe.createGraphics();
        java.awt.FontMetrics fm = pg.getFontMetrics(font);
        pg.dispose();
        int line = fm.getHeight() + 4;
        int left = 0;
        for (String r : labels.rows()) left = Math.max(left, fm.stringWidth(r) + 14);
        int top = (labels.title().isEmpty() ? 0 : line) + (labels.columns().isEmpty() ? 4 : line);
        int width = Math.max(left + grid.getWidth(), fm.stringWidth(labels.title()) + 12);
        BufferedImage out = new BufferedImage(width, top + grid.getHeight(), BufferedImage.TYPE_3BYTE_BGR);
        java.awt.Graphics2D g = out.createGraphics();
        g.setColor(java.awt.Color.WHITE);
        g.fillRect(0, 0, out.getWidth(), out.getHeight());
        g.drawImage(grid, left, top, null);
        g.setRenderingHint(java.awt.RenderingHints.KEY_TEXT_ANTIALIASING,
                java.awt.RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setFont(font);
        g.setColor(new java.awt.Color(0x33, 0x33, 0x33));
        if (!labels.title().isEmpty()) g.drawString(labels.title(), 6, fm.getAscent() + 3);
        int tileW = (w + PADDING) * scale, tileH = (h + PADDING) * scale, pad = PADDING * scale;
        for (int k = 0; k < labels.columns().size(); k++) {
            String s = labels.columns().get(k);
            int x = left + pad + k * tileW + (w * scale - fm.stringWidth(s)) / 2;
            g.drawString(s, x, top - 5 - fm.getDescent());
        }
        for (int k = 0; k < labels.rows().size(); k++) {
            String s = labels.rows().get(k);
            int y = top + pad + k * tileH + (h * scale + fm.getAscent() - fm.getDescent()) / 2;
            g.drawString(s, left - 8 - fm.stringWidth(s), y);
        }
        g.dispose();
        return out;
    }

    /** Writes a labelled grid ({@link #renderLabelled}) atomically. */
    public static void writeLabelled(List<byte[]> images, int c, int h, int w, int columns, Labels labels, Path png)
            throws IOException {
        woodflow.io.AtomicFiles.write(png, pngBytes(renderLabelled(images, c, h, w, columns, labels)));
    }

    public static byte[] pngBytes(BufferedImage img) {
        java.io.ByteArrayOutputStream bo = new java.io.ByteArrayOutputStream();
        try {
            if (!ImageIO.write(img, "png", bo)) throw new IOException("no PNG writer");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return bo.toByteArray();
    }

    /** Writes the grid atomically (see {@link woodflow.io.AtomicFiles}). */
    public static void write(List<byte[]> images, int c, int h, int w, int columns, Path png) throws IOException {
        woodflow.io.AtomicFiles.write(png, pngBytes(render(images, c, h, w, columns)));
    }

    /** Splits a (B, C, H, W) uint8 tensor into CHW byte arrays. */
    public static List<byte[]> images(Tensor bchw) {
        if (bchw.dim() != 4 || Tensors.dtype(bchw) != ScalarType.Byte) {
            throw new IllegalArgumentException("image grids take a (B, C, H, W) uint8 tensor, got "
                    + Tensors.dtype(bchw) + " " + Tensors.shapeString(bchw) + "; turn model-space samples into pixels first (floor((x + 0.5) "
                    + "n_bins) scaled to 0..255)");
        }
        int b = (int) bchw.size(0);
        int per = (int) (bchw.size(1) * bchw.size(2) * bchw.size(3));
        byte[] all = Tensors.toBytes(bchw);
        List<byte[]> images = new ArrayList<>(b);
        for (int i = 0; i < b; i++) images.add(java.util.Arrays.copyOfRange(all, i * per, (i + 1) * per));
        return images;
    }

    /** Writes a (B, C, H, W) uint8 tensor, e.g. {@code Quantization.toPixels(samples, nBits)}. */
    public static void write(Tensor bchw, int columns, Path png) throws IOException {
        write(images(bchw), (int) bchw.size(1), (int) bchw.size(2), (int) bchw.size(3), columns, png);
    }
}
