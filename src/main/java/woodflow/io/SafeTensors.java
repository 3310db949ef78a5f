package woodflow.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import woodflow.core.Tensors;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The safetensors format (a little-endian u64 header length, a JSON header naming each tensor's dtype, shape and
 * byte range, then the raw little-endian data), so a checkpoint opens with one call in numpy or PyTorch
 * ({@code safetensors.numpy.load_file}). String metadata rides in the header's {@code __metadata__}.
 */
public final class SafeTensors {
    private static final ObjectMapper JSON = Json.MAPPER;

    private SafeTensors() {}

    /** The format's limit on the JSON header (100 MB). */
    private static final long MAX_HEADER = 100_000_000;

    /** A file's tensors (as CPU tensors) and metadata. */
    public record Contents(Map<String, Tensor> tensors, Map<String, String> metadata) {}

    /**
     * Serialises tensors and string metadata. The SHA-256 of the data section is added to the metadata as
     * {@code sha256}, so {@link #read} detects a torn or corrupted file.
     */
    public static byte[] write(Map<String, Tensor> tensors, Map<String, String> metadata) {
        Layout l = layout(tensors, metadata);
        ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(l.size()));
        out.put(l.head().duplicate());
        for (Tensor t : l.data()) for (ByteBuffer b : views(t)) out.put(b);
        return out.array();
    }

    /**
     * Writes the same bytes as {@link #write} to {@code file} atomically ({@link AtomicFiles}), streamed from the
     * tensors' own memory: no copy of the data is made on the Java heap. (A checkpoint of the paper's CIFAR-10 model
     * with its Adam moments is 133 MB; built in memory first, it took the JVM heap, and the training process's peak
     * resident memory, up by about 600 MB at every checkpoint.)
     */
    public static void save(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        Layout l = layout(tensors, metadata);
        AtomicFiles.write(file, l.size(), out -> {
            out.write(l.head().duplicate());
            for (Tensor t : l.data()) for (ByteBuffer b : views(t)) out.write(b);
        });
    }

    /** A serialisation ready to stream: the header block (length and JSON) and the tensors whose memory follows. */
    private record Layout(ByteBuffer head, List<Tensor> data, long size) {}

    private static Layout layout(Map<String, Tensor> tensors, Map<String, String> metadata) {
        ObjectNode header = JSON.createObjectNode();
        ObjectNode m = header.putObject("__metadata__");
        if (metadata != null) metadata.forEach(m::put);
        List<Tensor> data = new ArrayList<>();
        MessageDigest digest = sha256();
        long offset = 0;
        for (var e : tensors.entrySet()) {
            Tensor t = e.getValue().detach().contiguous().cpu();
            long bytes = t.numel() * t.element_size();
            ObjectNode n = header.putObject(e.getKey());
            n.put("dtype", dtypeName(Tensors.dtype(t)));
            var shape = n.putArray("shape");
            for (long d : Tensors.shape(t)) shape.add(d);
            var off = n.putArray("data_offsets");
            off.add(offset);
            off.add(offset + bytes);
            for (ByteBuffer b : views(t)) digest.update(b);
            data.add(t);
            offset += bytes;
        }
        m.put("sha256", HexFormat.of().formatHex(digest.digest()));
        byte[] h;
        try {
            h = JSON.writeValueAsBytes(header);
        } catch (IOException ex) {
            throw new IllegalStateException(ex);
        }
        int pad = (8 - h.length % 8) % 8;
        ByteBuffer head = ByteBuffer.allocate(8 + h.length + pad).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(h.length + pad).put(h);
        for (int i = 0; i < pad; i++) head.put((byte) ' ');
        return new Layout(head.flip(), data, head.limit() + offset);
    }

    /** A contiguous CPU tensor's bytes as views of its memory (in parts of at most 1 GiB); keep t alive meanwhile. */
    private static List<ByteBuffer> views(Tensor t) {
        long n = t.numel() * t.element_size();
        List<ByteBuffer> out = new ArrayList<>();
        if (n == 0) return out;
        BytePointer p = new BytePointer(t.data_ptr()).capacity(n);
        for (long at = 0; at < n; at += 1L << 30) {
            out.add(new BytePointer(p).position(at).limit(Math.min(n, at + (1L << 30))).asByteBuffer());
        }
        return out;
    }

    /**
     * Parses a safetensors file. Throws {@link IOException} with a message naming what is wrong when the bytes are
     * truncated or not safetensors.
     */
    public static Contents read(byte[] bytes, String what) throws IOException {
        return read(of(ByteBuffer.wrap(bytes)), what);
    }

    /**
     * Reads a safetensors file: each tensor is read from the file straight into its own memory and the checksum is
     * taken over the file in 1 MiB pieces, so no copy of the data is held on the Java heap. Errors as
     * {@link #read(byte[], String)}.
     */
    public static Contents read(Path file, String what) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return read(new Source() {
                public long length() throws IOException {
                    return ch.size();
                }

                public void read(long offset, ByteBuffer into) throws IOException {
                    while (into.hasRemaining()) {
                        int k = ch.read(into, offset);
                        if (k < 0) throw new IOException(what + " ended while being read");
                        offset += k;
                    }
                }
            }, what);
        }
    }

    /** Bytes at positions: a file, or an array. */
    private interface Source {
        long length() throws IOException;

        /** Fills {@code into}'s remaining bytes from {@code offset}. */
        void read(long offset, ByteBuffer into) throws IOException;
    }

    private static Source of(ByteBuffer bytes) {
        return new Source() {
            public long length() {
                return bytes.remaining();
            }

            public void read(long offset, ByteBuffer into) {
                ByteBuffer d = bytes.duplicate();
                d.position(bytes.position() + Math.toIntExact(offset));
                d.limit(d.position() + into.remaining());
                into.put(d);
            }
        };
    }

    private static Contents read(Source file, String what) throws IOException {
        long length = file.length();
        if (length == 0) throw new IOException(what + " is empty (0 bytes), not a safetensors checkpoint");
        if (length < 8) throw new IOException(what + " is truncated: " + length + " bytes, not safetensors");
        ByteBuffer first = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        file.read(0, first);
        long n = first.flip().getLong();
        if (first.get(0) == 'P' && first.get(1) == 'K' && first.get(2) == 3 && first.get(3) == 4) {
            throw new IOException(what + " is a torch.save (.pt) file, not a woodflow checkpoint: woodflow reads its "
                    + "own .safetensors checkpoints; to bring a .pt in, use woodflow import");
        }
        if (length == 8 && n > 0 && n <= MAX_HEADER) {
            throw new IOException(what + " is truncated: it ends after the 8 bytes of its header's length");
        }
        if (n <= 0 || n > length - 8 || n > MAX_HEADER) {
            throw new IOException(what + " is not a safetensors file or is truncated (header length " + n
                    + ", file length " + length + ")");
        }
        JsonNode header;
        try {
            ByteBuffer h = ByteBuffer.allocate(Math.toIntExact(n));
            file.read(8, h);
            header = JSON.readTree(new String(h.array(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IOException(what + " has a corrupt safetensors header: " + e.getMessage());
        }
        long base = 8 + n;
        long dataEnd = 0;
        for (Iterator<Map.Entry<String, JsonNode>> f = header.fields(); f.hasNext(); ) {
            var e = f.next();
            if (!e.getKey().equals("__metadata__")) {
                dataEnd = Math.max(dataEnd, e.getValue().path("data_offsets").path(1).asLong(0));
            }
        }
        if (base + dataEnd > length) {
            throw new IOException(what + " is truncated: its header describes " + (base + dataEnd)
                    + " bytes but the file has " + length);
        }
        String expected = header.path("__metadata__").path("sha256").asText(null);
        MessageDigest digest = sha256();
        ByteBuffer piece = ByteBuffer.allocate(1 << 20);
        for (long at = base; at < length; at += piece.capacity()) {
            piece.clear().limit((int) Math.min(piece.capacity(), length - at));
            file.read(at, piece);
            digest.update(piece.flip());
        }
        if (expected != null && !expected.equals(HexFormat.of().formatHex(digest.digest()))) {
            throw new IOException(what + " is corrupt: its data does not match the checksum in its header");
        }
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Map<String, String> meta = new LinkedHashMap<>();
        Iterator<Map.Entry<String, JsonNode>> it = header.fields();
        while (it.hasNext()) {
            var e = it.next();
            if (e.getKey().equals("__metadata__")) {
                e.getValue().fields().forEachRemaining(m -> meta.put(m.getKey(), m.getValue().asText()));
                continue;
            }
            JsonNode t = e.getValue();
            ScalarType dt = dtype(t.path("dtype").asText(), what);
            JsonNode sh = t.path("shape");
            long[] shape = new long[sh.size()];
            long count = 1;
            for (int i = 0; i < shape.length; i++) {
                shape[i] = sh.get(i).asLong();
                count *= shape[i];
            }
            long begin = t.path("data_offsets").path(0).asLong(-1), end = t.path("data_offsets").path(1).asLong(-1);
            if (begin < 0 || end < begin || base + end > length || end - begin != count * size(dt)) {
                throw new IOException(what + " is truncated or corrupt: tensor " + e.getKey() + " has data range ["
                        + begin + ", " + end + ") but the file holds " + (length - base) + " data bytes");
            }
            Tensor tensor = torch.empty(shape, Tensors.options(dt), new org.bytedeco.pytorch.MemoryFormatOptional());
            long at = base + begin;
            for (ByteBuffer b : views(tensor)) {
                int k = b.remaining();
                file.read(at, b);
                at += k;
            }
            tensors.put(e.getKey(), tensor);
        }
        return new Contents(tensors, meta);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String dtypeName(ScalarType t) {
        return switch (t) {
            case Float -> "F32";
            case Double -> "F64";
            case BFloat16 -> "BF16";
            case Half -> "F16";
            case Long -> "I64";
            case Int -> "I32";
            case Byte -> "U8";
            default -> throw new IllegalArgumentException("cannot save tensors of type " + t);
        };
    }

    private static ScalarType dtype(String name, String what) throws IOException {
        return switch (name) {
            case "F32" -> ScalarType.Float;
            case "F64" -> ScalarType.Double;
            case "BF16" -> ScalarType.BFloat16;
            case "F16" -> ScalarType.Half;
            case "I64" -> ScalarType.Long;
            case "I32" -> ScalarType.Int;
            case "U8" -> ScalarType.Byte;
            default -> throw new IOException(what + " holds a tensor of unsupported dtype '" + name + "'");
        };
    }

    private static int size(ScalarType t) {
        return switch (t) {
            case Double, Long -> 8;
            case Float, Int -> 4;
            case BFloat16, Half -> 2;
            default -> 1;
        };
    }
}
