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

    /** The metadata key of the data section's SHA-256. */
    static final String DATA_SHA256 = "sha256";

    /**
     * The metadata key of the header's SHA-256: over the metadata (the run config among it, and {@code sha256}) and
     * the tensor table, in the canonical form of {@link #headerDigest}. Files written before it existed lack it and
     * are read as before.
     */
    static final String HEADER_SHA256 = "header_sha256";

    /**
     * Serialises tensors and string metadata. The SHA-256 of the data section is added to the metadata as
     * {@code sha256}, and that of the header as {@code header_sha256}, so {@link #read} detects a torn or corrupted
     * file, including a changed run config.
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
        m.put(DATA_SHA256, HexFormat.of().formatHex(digest.digest()));
        m.put(HEADER_SHA256, headerDigest(header));
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
        if (!header.isObject()) {
            throw new IOException(what + " has a corrupt safetensors header (not a mapping of tensors)");
        }
        long base = 8 + n;
        long dataEnd = 0;
        for (Iterator<Map.Entry<String, JsonNode>> f = header.fields(); f.hasNext(); ) {
            var e = f.next();
            if (e.getKey().equals("__metadata__")) {
                if (!e.getValue().isObject()) {
                    throw new IOException(what + " has a corrupt safetensors header (its __metadata__ is not a "
                            + "mapping of text to text)");
                }
                continue;
            }
            checkEntry(e.getKey(), e.getValue(), what);
            dataEnd = Math.max(dataEnd, e.getValue().path("data_offsets").path(1).asLong(0));
        }
        if (base + dataEnd > length) {
            throw new IOException(what + " is truncated: its header describes " + (base + dataEnd)
                    + " bytes but the file has " + length);
        }
        String expected = header.path("__metadata__").path(DATA_SHA256).asText(null);
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
        String expectedHeader = header.path("__metadata__").path(HEADER_SHA256).asText(null);
        if (expectedHeader != null && !expectedHeader.equals(headerDigest(header))) {
            throw new IOException(what + " is corrupt: its header (run config and tensor table) does not match the "
                    + "checksum in its header; the file was damaged after it was written: use another checkpoint of "
                    + "the run");
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
            ScalarType dt = dtype(t.path("dtype").asText(), printable(e.getKey()), what);
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

    /**
     * A header entry is a tensor's {@code dtype} (text), {@code shape} (sizes) and {@code data_offsets} (begin, end),
     * nothing else: any other shape of entry is a damaged header (a flipped byte in {@code "__metadata__"} makes the
     * metadata look like a tensor), named as such rather than as a strange tensor.
     */
    private static void checkEntry(String name, JsonNode t, String what) throws IOException {
        String where = what + " has a corrupt safetensors header (tensor " + printable(name);
        boolean fields = t.isObject() && t.size() == 3 && t.has("dtype") && t.has("shape") && t.has("data_offsets");
        if (!fields) throw new IOException(where + ": expected dtype, shape and data_offsets)");
        if (!t.get("dtype").isTextual()) throw new IOException(where + ": its dtype is not text)");
        JsonNode shape = t.get("shape"), offsets = t.get("data_offsets");
        boolean sizes = shape.isArray();
        for (JsonNode d : shape) sizes &= d.canConvertToLong() && d.isIntegralNumber() && d.asLong() >= 0;
        if (!sizes) throw new IOException(where + ": its shape " + shape + " is not a list of sizes)");
        boolean range = offsets.isArray() && offsets.size() == 2;
        for (JsonNode o : offsets) range &= o.isIntegralNumber() && o.canConvertToLong() && o.asLong() >= 0;
        if (!range || offsets.get(0).asLong() > offsets.get(1).asLong()) {
            throw new IOException(where + ": its data_offsets " + offsets + " are not [begin, end])");
        }
    }

    /** A name from a file, with control characters shown as '?' (a damaged byte must not garble the terminal). */
    private static String printable(String name) {
        StringBuilder b = new StringBuilder(name.length());
        name.codePoints().forEach(c -> b.appendCodePoint(Character.isISOControl(c) ? '?' : c));
        return b.toString();
    }

    /**
     * The SHA-256 (hex) of a header in canonical form, so that any writer that keeps the same metadata and tensor
     * table gets the same digest however it lays out its JSON. The canonical bytes: the number of metadata entries
     * other than {@code header_sha256}, then each such entry in the order of its key's UTF-8 bytes as key and value;
     * then the number of tensors, then each in the order of its name's UTF-8 bytes as its name and the text
     * {@code "DTYPE D0,D1,... BEGIN END"}. Every count is a little-endian u32, every text a little-endian u32 byte
     * length and its UTF-8 bytes. (woodflow_torch's safetensors.py computes the same.)
     */
    static String headerDigest(JsonNode header) {
        java.util.TreeMap<byte[], String> meta = new java.util.TreeMap<>(java.util.Arrays::compareUnsigned);
        java.util.TreeMap<byte[], String> table = new java.util.TreeMap<>(java.util.Arrays::compareUnsigned);
        for (Iterator<Map.Entry<String, JsonNode>> f = header.fields(); f.hasNext(); ) {
            var e = f.next();
            if (e.getKey().equals("__metadata__")) {
                e.getValue().fields().forEachRemaining(m -> {
                    if (!m.getKey().equals(HEADER_SHA256)) meta.put(utf8(m.getKey()), m.getValue().asText());
                });
                continue;
            }
            JsonNode t = e.getValue();
            StringBuilder dims = new StringBuilder();
            for (JsonNode d : t.path("shape")) dims.append(dims.length() == 0 ? "" : ",").append(d.asLong());
            table.put(utf8(e.getKey()), t.path("dtype").asText() + " " + dims + " "
                    + t.path("data_offsets").path(0).asLong() + " " + t.path("data_offsets").path(1).asLong());
        }
        MessageDigest digest = sha256();
        for (var part : List.of(meta, table)) {
            digest.update(u32(part.size()));
            part.forEach((k, v) -> {
                byte[] value = utf8(v);
                digest.update(u32(k.length));
                digest.update(k);
                digest.update(u32(value.length));
                digest.update(value);
            });
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] u32(int n) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(n).array();
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

    private static ScalarType dtype(String name, String tensor, String what) throws IOException {
        return switch (name) {
            case "F32" -> ScalarType.Float;
            case "F64" -> ScalarType.Double;
            case "BF16" -> ScalarType.BFloat16;
            case "F16" -> ScalarType.Half;
            case "I64" -> ScalarType.Long;
            case "I32" -> ScalarType.Int;
            case "U8" -> ScalarType.Byte;
            default -> throw new IOException(what + " holds tensor " + tensor + " of dtype '" + printable(name)
                    + "', which woodflow does not read (it reads F32, F64, BF16, F16, I64, I32, U8)");
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
