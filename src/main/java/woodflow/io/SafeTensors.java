package woodflow.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import woodflow.core.Tensors;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The safetensors format (a little-endian u64 header length, a JSON header naming each tensor's dtype, shape and
 * byte range, then the raw little-endian data), so a checkpoint opens with one call in numpy or PyTorch
 * ({@code safetensors.numpy.load_file}). String metadata rides in the header's {@code __metadata__}.
 */
public final class SafeTensors {
    private static final ObjectMapper JSON = Json.MAPPER;

    private SafeTensors() {}

    /** A file's tensors (as CPU tensors) and metadata. */
    public record Contents(Map<String, Tensor> tensors, Map<String, String> metadata) {}

    /**
     * Serialises tensors and string metadata. The SHA-256 of the data section is added to the metadata as
     * {@code sha256}, so {@link #read} detects a torn or corrupted file.
     */
    public static byte[] write(Map<String, Tensor> tensors, Map<String, String> metadata) {
        ObjectNode header = JSON.createObjectNode();
        ObjectNode m = header.putObject("__metadata__");
        if (metadata != null) metadata.forEach(m::put);
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        for (var e : tensors.entrySet()) {
            Tensor t = e.getValue();
            byte[] bytes = Tensors.toBytes(t);
            ObjectNode n = header.putObject(e.getKey());
            n.put("dtype", dtypeName(Tensors.dtype(t)));
            var shape = n.putArray("shape");
            for (long d : Tensors.shape(t)) shape.add(d);
            var off = n.putArray("data_offsets");
            off.add(data.size());
            off.add(data.size() + bytes.length);
            data.writeBytes(bytes);
        }
        m.put("sha256", sha256(data.toByteArray(), 0, data.size()));
        byte[] h;
        try {
            h = JSON.writeValueAsBytes(header);
        } catch (IOException ex) {
            throw new IllegalStateException(ex);
        }
        int pad = (8 - h.length % 8) % 8;
        byte[] hp = new byte[h.length + pad];
        System.arraycopy(h, 0, hp, 0, h.length);
        for (int i = h.length; i < hp.length; i++) hp[i] = ' ';
        ByteBuffer out = ByteBuffer.allocate(8 + hp.length + data.size()).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(hp.length).put(hp).put(data.toByteArray());
        return out.array();
    }

    /**
     * Parses a safetensors file. Throws {@link IOException} with a message naming what is wrong when the bytes are
     * truncated or not safetensors.
     */
    public static Contents read(byte[] bytes, String what) throws IOException {
        if (bytes.length < 8) throw new IOException(what + " is truncated: " + bytes.length + " bytes, not safetensors");
        ByteBuffer bb = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long n = bb.getLong();
        if (n <= 0 || n > bytes.length - 8) {
            throw new IOException(what + " is not a safetensors file or is truncated (header length " + n
                    + ", file length " + bytes.length + ")");
        }
        JsonNode header;
        try {
            header = JSON.readTree(new String(bytes, 8, (int) n, StandardCharsets.UTF_8));
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
        if (base + dataEnd > bytes.length) {
            throw new IOException(what + " is truncated: its header describes " + (base + dataEnd)
                    + " bytes but the file has " + bytes.length);
        }
        String expected = header.path("__metadata__").path("sha256").asText(null);
        if (expected != null && !expected.equals(sha256(bytes, (int) base, (int) (bytes.length - base)))) {
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
            if (begin < 0 || end < begin || base + end > bytes.length || end - begin != count * size(dt)) {
                throw new IOException(what + " is truncated or corrupt: tensor " + e.getKey() + " has data range ["
                        + begin + ", " + end + ") but the file holds " + (bytes.length - base) + " data bytes");
            }
            byte[] raw = new byte[(int) (end - begin)];
            System.arraycopy(bytes, (int) (base + begin), raw, 0, raw.length);
            tensors.put(e.getKey(), Tensors.fromBytes(raw, dt, shape));
        }
        return new Contents(tensors, meta);
    }

    static String sha256(byte[] b, int offset, int length) {
        try {
            java.security.MessageDigest d = java.security.MessageDigest.getInstance("SHA-256");
            d.update(b, offset, length);
            return java.util.HexFormat.of().formatHex(d.digest());
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
