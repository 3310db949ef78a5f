package woodflow.interop;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.pytorch.ByteVector;
import org.bytedeco.pytorch.CompilationUnit;
import org.bytedeco.pytorch.Function;
import org.bytedeco.pytorch.GenericDict;
import org.bytedeco.pytorch.GenericDictIterator;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.IValueVector;
import org.bytedeco.pytorch.QualifiedName;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import woodflow.core.Tensors;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * {@code torch.save} files (a zip holding {@code data.pkl} and one record per storage) of a dict of tensors, read and
 * written by libtorch's own serialisation in the presets: {@code torch::pickle_save} writes a file Python's
 * {@code torch.load} reads, and {@code torch::pickle_load} reads one Python wrote. Two gaps of the presets are
 * bridged: a Java string-to-tensor dict is built by a two-line TorchScript function (the presets expose no insert on
 * {@code GenericDict}), and the OrderedDict of a {@code state_dict()} is made a plain dict first ({@link PickleDicts}),
 * because libtorch's unpickler reads OrderedDicts as None.
 */
public final class TorchArchive {
    private TorchArchive() {}

    private static final String DICT_BUILDER = """
            def empty() -> Dict[str, Tensor]:
                d: Dict[str, Tensor] = {}
                return d
            def put(d: Dict[str, Tensor], k: str, v: Tensor) -> Dict[str, Tensor]:
                d[k] = v
                return d
            """;

    /** The bytes of a torch.save file holding {@code state} as a dict (insertion order kept). */
    public static byte[] write(Map<String, Tensor> state) {
        CompilationUnit cu = torch.compile(DICT_BUILDER);
        IValue dict = cu.get_function(new QualifiedName("empty")).apply(new IValueVector());
        Function put = cu.get_function(new QualifiedName("put"));
        for (var e : state.entrySet()) {
            put.apply(new IValueVector(dict, new IValue(e.getKey()), new IValue(e.getValue().contiguous())));
        }
        return toArray(torch.pickle_save(dict));
    }

    /*
     * The presets map std::vector<char> to ByteVector, whose Java accessors copy one element per native call (about
     * 100 ns a byte: 5 s for a 42 MB checkpoint). Block copies go through the vector's data pointer instead, read
     * from its begin() iterator (libstdc++'s vector iterator holds nothing but that pointer); each use checks the
     * pointer against the element accessors at three places and falls back to them if they disagree.
     */

    static byte[] toArray(ByteVector v) {
        long n = v.size();
        if (n > Integer.MAX_VALUE - 16) throw new IllegalStateException("a torch.save file over 2 GB: " + n + " bytes");
        BytePointer data = data(v);
        if (data == null) return v.get();
        byte[] out = new byte[(int) n];
        data.get(out);
        return out;
    }

    static ByteVector fromArray(byte[] bytes) {
        ByteVector v = new ByteVector(bytes.length);
        BytePointer data = data(v);
        if (data == null) return new ByteVector(bytes);
        data.put(bytes);
        int n = bytes.length;
        if (n > 0 && (v.get(0) != bytes[0] || v.get(n / 2) != bytes[n / 2] || v.get(n - 1) != bytes[n - 1])) {
            return new ByteVector(bytes);
        }
        return v;
    }

    private static BytePointer data(ByteVector v) {
        long n = v.size();
        if (n < 3) return null;
        final long at = new LongPointer(v.begin()).get();
        if (at == 0) return null;
        BytePointer p = new BytePointer() {
            {
                this.address = at;
                this.capacity = n;
                this.limit = n;
            }
        };
        for (long i : new long[] {0, n / 2, n - 1}) {
            if (p.get(i) != v.get(i)) return null;
        }
        return p;
    }

    /**
     * The tensors of a torch.save file whose object is a dict of tensors ({@code torch.save(model.state_dict())}) or a
     * dict with exactly one such dict among its values ({@code torch.save({"state_dict": ..., "epoch": 3})}); the
     * name of that entry is reported in {@code via}.
     */
    public record Contents(Map<String, Tensor> tensors, String via) {}

    public static Contents read(Path file) throws IOException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new IOException("checkpoint " + file + " does not exist");
        }
        String what = "checkpoint " + file;
        if (bytes.length < 4 || bytes[0] != 'P' || bytes[1] != 'K') throw new IOException(notTorchSave(what, bytes));
        IValue root;
        try {
            root = torch.pickle_load(fromArray(withPlainDicts(file, what)));
        } catch (RuntimeException e) {
            String reason = firstLine(e.getMessage());
            String hint = reason.contains("unknown type") || reason.contains("unknown torch global")
                    ? "; it holds Python objects beside the tensors: save the state_dict alone, e.g. in Python "
                    + "torch.save(torch.load(f)[\"model\"], \"model.pt\")" : "";
            throw new IOException(what + ": libtorch cannot read it: " + reason + hint, e);
        }
        if (!root.isGenericDict()) {
            throw new IOException(what + " holds a " + root.tagKind().getString() + ", not a dict of tensors");
        }
        Map<String, IValue> top = entries(root.toGenericDict());
        if (top.values().stream().allMatch(IValue::isTensor)) return new Contents(tensors(top), null);
        List<String> dicts = new ArrayList<>();
        top.forEach((k, v) -> {
            if (v.isGenericDict() && !entries(v.toGenericDict()).isEmpty()
                    && entries(v.toGenericDict()).values().stream().allMatch(IValue::isTensor)) {
                dicts.add(k);
            }
        });
        if (dicts.size() != 1) {
            throw new IOException(what + " is a dict with keys " + top.keySet() + "; expected a state_dict (a dict of "
                    + "tensors) or a dict with one state_dict among its values, found " + dicts.size());
        }
        return new Contents(tensors(entries(top.get(dicts.get(0)).toGenericDict())), dicts.get(0));
    }

    /** The pickle that begins PyTorch's format before 1.6: protocol 2, then the long 0x1950a86a20f9469cfc6c. */
    private static final byte[] LEGACY = {(byte) 0x80, 0x02, (byte) 0x8a, 0x0a, 0x6c, (byte) 0xfc, (byte) 0x9c, 0x46,
            (byte) 0xf9, 0x20, 0x6a, (byte) 0xa8, 0x50, 0x19};

    /** Why {@code bytes} (not a zip archive) are no torch.save file, by what they are instead. */
    private static String notTorchSave(String what, byte[] bytes) {
        if (bytes.length == 0) {
            return what + " is empty (0 bytes): it was not written, or was cut off; save it again in Python with "
                    + "torch.save(model.state_dict(), path)";
        }
        if (bytes.length >= LEGACY.length && java.util.Arrays.equals(bytes, 0, LEGACY.length, LEGACY, 0, LEGACY.length)) {
            return what + " is in PyTorch's format before 1.6 (written with _use_new_zipfile_serialization=False): load "
                    + "and save it again in Python with torch.save(torch.load(f), f)";
        }
        if (bytes.length >= 2 && (bytes[0] & 0xff) == 0x80 && bytes[1] >= 2 && bytes[1] <= 5) {
            return what + " is a Python pickle, not a torch.save zip file: if torch.save wrote it before PyTorch 1.6 "
                    + "(or with _use_new_zipfile_serialization=False), load and save it again in Python with "
                    + "torch.save(torch.load(f), f)";
        }
        if (bytes.length >= 9 && bytes[8] == '{') {
            long n = java.nio.ByteBuffer.wrap(bytes, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
            String head = new String(bytes, 8, (int) Math.max(0, Math.min(n, bytes.length - 8L)),
                    java.nio.charset.StandardCharsets.UTF_8);
            String path = what.substring("checkpoint ".length());
            if (head.contains("\"__metadata__\"") && head.contains("\"config\"")) {
                return what + " is a woodflow checkpoint (safetensors), not a torch.save file: woodflow reads it as it "
                        + "is (e.g. woodflow eval --checkpoint " + path + "); import takes the paper's PyTorch "
                        + "checkpoints (.pt)";
            }
            return what + " is a safetensors file, not a torch.save file: import takes torch.save files (.pt); in "
                    + "Python, torch.save(safetensors.torch.load_file(f), \"model.pt\") makes one";
        }
        return what + " is not a torch.save file: it is neither a zip archive (what torch.save writes since PyTorch "
                + "1.6) nor PyTorch's older format; give the file that torch.save(model.state_dict(), path) wrote";
    }

    private static Map<String, IValue> entries(GenericDict d) {
        Map<String, IValue> out = new LinkedHashMap<>();
        GenericDictIterator it = d.begin();
        for (long i = 0; i < d.size(); i++, it.increment()) {
            IValue k = it.access().key();
            String name = k.isString() ? k.toStringRef().getString() : k.tagKind().getString() + "#" + i;
            out.put(name, it.access().value());
        }
        return out;
    }

    private static Map<String, Tensor> tensors(Map<String, IValue> m) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        m.forEach((k, v) -> out.put(k, Tensors.keep(v.toTensor().contiguous().clone())));
        return out;
    }

    private static String firstLine(String s) {
        if (s == null) return "no message";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /** The same zip with its data.pkl passed through {@link PickleDicts#plainDicts}, entries in their order. */
    private static byte[] withPlainDicts(Path zip, String what) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream((int) Math.min(Integer.MAX_VALUE - 16, Files.size(zip)));
        boolean found = false;
        // ZipFile, not ZipInputStream: torch.save writes stored entries with data descriptors, which the stream
        // reader refuses.
        ZipFile opened;
        try {
            opened = new ZipFile(zip.toFile());
        } catch (java.util.zip.ZipException e) {
            throw new IOException(what + " is a truncated or damaged torch.save file: its zip archive does not end "
                    + "as a complete one does (the file was cut short, or changed); copy or save it again");
        }
        try (ZipFile in = opened;
             ZipOutputStream out = new ZipOutputStream(buf)) {
            out.setLevel(0);
            for (ZipEntry e : java.util.Collections.list(in.entries())) {
                byte[] data;
                try (var s = in.getInputStream(e)) {
                    data = s.readAllBytes();
                }
                if (e.getName().endsWith("/data.pkl") && e.getName().indexOf('/') == e.getName().lastIndexOf('/')) {
                    data = PickleDicts.plainDicts(data, what);
                    found = true;
                }
                out.putNextEntry(new ZipEntry(e.getName()));
                out.write(data);
                out.closeEntry();
            }
        }
        if (!found) {
            throw new IOException(what + " is a zip file but not a torch.save file (no ARCHIVE/data.pkl in it)");
        }
        return buf.toByteArray();
    }
}
