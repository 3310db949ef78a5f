package woodflow.io;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import woodflow.core.Tensors;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Checkpoints are streamed to and from the tensors' memory: the same bytes as in memory, no heap copy. */
class SafeTensorsTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void load() {
        Tensors.load();
    }

    static Map<String, Tensor> sample() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        torch.manual_seed(1);
        m.put("w", torch.randn(3, 4, 5));
        m.put("strided", torch.randn(6, 4).t()); // not contiguous: saved as its contiguous copy
        m.put("b16", torch.randn(7).to(ScalarType.BFloat16));
        m.put("empty", torch.randn(0, 3));
        m.put("ids", torch.arange(new org.bytedeco.pytorch.Scalar(5L)));
        return m;
    }

    @Test
    void savedFilesHoldTheBytesOfTheInMemoryFormatAndReadBackExactly() throws IOException {
        try (PointerScope scope = new PointerScope()) {
            Map<String, Tensor> t = sample();
            Path f = dir.resolve("a.safetensors");
            SafeTensors.save(f, t, Map.of("k", "v"));
            byte[] bytes = Files.readAllBytes(f);
            assertThat(bytes).isEqualTo(SafeTensors.write(t, Map.of("k", "v")));
            SafeTensors.Contents fromFile = SafeTensors.read(f, "file"), fromBytes = SafeTensors.read(bytes, "bytes");
            assertThat(fromFile.metadata()).isEqualTo(fromBytes.metadata()).containsEntry("k", "v");
            assertThat(fromFile.tensors().keySet()).containsExactlyElementsOf(t.keySet());
            for (String k : t.keySet()) {
                Tensor a = fromFile.tensors().get(k), b = t.get(k);
                assertThat(Tensors.shape(a)).as(k).isEqualTo(Tensors.shape(b));
                assertThat(Tensors.dtype(a)).as(k).isEqualTo(Tensors.dtype(b));
                assertThat(torch.equal(a, b)).as(k).isTrue();
            }
        }
    }

    @Test
    void aDamagedFileIsRefusedWithItsReason() throws IOException {
        try (PointerScope scope = new PointerScope()) {
            Path f = dir.resolve("b.safetensors");
            SafeTensors.save(f, sample(), Map.of());
            byte[] bytes = Files.readAllBytes(f);
            Path cut = dir.resolve("cut.safetensors");
            Files.write(cut, java.util.Arrays.copyOf(bytes, bytes.length - 3));
            assertThatThrownBy(() -> SafeTensors.read(cut, "checkpoint cut")).isInstanceOf(IOException.class)
                    .hasMessageContaining("checkpoint cut is truncated");
            bytes[bytes.length - 2] ^= 1;
            Path flipped = dir.resolve("flipped.safetensors");
            Files.write(flipped, bytes);
            assertThatThrownBy(() -> SafeTensors.read(flipped, "checkpoint flipped"))
                    .hasMessage("checkpoint flipped is corrupt: its data does not match the checksum in its header");
            Path tiny = dir.resolve("tiny");
            Files.write(tiny, new byte[] {1, 2, 3});
            assertThatThrownBy(() -> SafeTensors.read(tiny, "x")).hasMessageContaining("x is truncated: 3 bytes");
        }
    }

    /**
     * The header (metadata, the run config among it, and the tensor table) is covered by its own checksum: one changed
     * byte there is refused as the data's is; a file written before that checksum existed still reads, silently.
     */
    @Test
    void aChangedHeaderIsRefusedAndAFileWithoutTheHeaderChecksumStillReads() throws IOException {
        try (PointerScope scope = new PointerScope()) {
            Path f = dir.resolve("h.safetensors");
            SafeTensors.save(f, sample(), Map.of("config", "data: {n_bits: 3}", "logscale_factor", "1.0"));
            String text = new String(Files.readAllBytes(f), java.nio.charset.StandardCharsets.ISO_8859_1);
            assertThat(text).contains("\"header_sha256\"");
            for (String[] change : new String[][] {{"n_bits: 3", "n_bits: 2"}, {"\"1.0\"", "\"3.0\""},
                    {"\"strided\"", "\"stridex\""}}) {
                Path changed = dir.resolve("changed.safetensors");
                Files.write(changed, text.replace(change[0], change[1])
                        .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
                assertThatThrownBy(() -> SafeTensors.read(changed, "checkpoint changed.safetensors"))
                        .as(change[1]).isInstanceOf(IOException.class)
                        .hasMessage("checkpoint changed.safetensors is corrupt: its header (run config and tensor "
                                + "table) does not match the checksum in its header; the file was damaged after it "
                                + "was written: use another checkpoint of the run");
            }
            String old = "{\"__metadata__\":{\"config\":\"data: {n_bits: 3}\"},"
                    + "\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8 + old.length() + 8)
                    .order(java.nio.ByteOrder.LITTLE_ENDIAN);
            b.putLong(old.length()).put(old.getBytes(java.nio.charset.StandardCharsets.UTF_8)).putFloat(1f).putFloat(2f);
            Path before = dir.resolve("before.safetensors");
            Files.write(before, b.array());
            SafeTensors.Contents c = SafeTensors.read(before, "checkpoint before.safetensors");
            assertThat(c.metadata()).containsEntry("config", "data: {n_bits: 3}");
            assertThat(c.tensors().get("x").sum().item_float()).isEqualTo(3f);
        }
    }

    /** A header byte damaged into a value of the wrong kind says the header is damaged, naming the file. */
    @Test
    void aDamagedTensorEntryIsNamedAsACorruptHeader() throws IOException {
        try (PointerScope scope = new PointerScope()) {
            Path f = dir.resolve("d.safetensors");
            SafeTensors.save(f, Map.of("w", torch.randn(2, 3)), Map.of());
            String text = new String(Files.readAllBytes(f), java.nio.charset.StandardCharsets.ISO_8859_1);
            Path damaged = dir.resolve("hdrflip.safetensors");
            Files.write(damaged, text.replace("\"dtype\"", "\"dtypf\"")
                    .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
            assertThatThrownBy(() -> SafeTensors.read(damaged, "checkpoint hdrflip.safetensors"))
                    .isInstanceOf(IOException.class)
                    .hasMessageStartingWith("checkpoint hdrflip.safetensors has a corrupt safetensors header "
                            + "(tensor w: expected dtype, shape and data_offsets)");
            Files.write(damaged, text.replace("\"__metadata__\"", "\"__metadata\u007f_\"")
                    .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
            assertThatThrownBy(() -> SafeTensors.read(damaged, "checkpoint hdrflip.safetensors"))
                    .isInstanceOf(IOException.class)
                    .hasMessageStartingWith("checkpoint hdrflip.safetensors has a corrupt safetensors header "
                            + "(tensor __metadata?_: expected dtype, shape and data_offsets)");
        }
    }

    /** A 64 MB state is written and read with under 4 MB allocated on the heap by this thread. */
    @Test
    void aLargeStateIsStreamedWithoutCopiesOnTheHeap() throws IOException {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long me = Thread.currentThread().getId();
        try (PointerScope scope = new PointerScope()) {
            Map<String, Tensor> t = Map.of("big", torch.randn(4, 1024, 1024, 4));
            Path f = dir.resolve("big.safetensors");
            SafeTensors.save(f, t, Map.of()); // warm: classes, JSON
            long before = threads.getThreadAllocatedBytes(me);
            SafeTensors.save(f, t, Map.of());
            long written = threads.getThreadAllocatedBytes(me) - before;
            assertThat(Files.size(f)).isGreaterThan(64L << 20);
            before = threads.getThreadAllocatedBytes(me);
            SafeTensors.Contents c = SafeTensors.read(f, "big");
            long read = threads.getThreadAllocatedBytes(me) - before;
            assertThat(torch.equal(c.tensors().get("big"), t.get("big"))).isTrue();
            assertThat(written).as("heap bytes allocated by a save").isLessThan(4L << 20);
            assertThat(read).as("heap bytes allocated by a read").isLessThan(4L << 20);
        }
    }

    /** A header length past the format's 100 MB limit is refused before anything is allocated for it. */
    @Test
    void aHeaderAboveTheFormatsLimitIsRefused() throws IOException {
        Path f = dir.resolve("huge-header.safetensors");
        long n = 200_000_000L;
        try (var ch = java.nio.channels.FileChannel.open(f, java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(0, n));
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {'{'}), n + 16); // sparse: the file is longer than n + 8
        }
        assertThatThrownBy(() -> SafeTensors.read(f, "checkpoint h")).isInstanceOf(IOException.class)
                .hasMessage("checkpoint h is not a safetensors file or is truncated (header length 200000000, file "
                        + "length 200000017)");
    }

    /** Content that writes fewer bytes than it announced fails, and leaves neither the target nor a temporary file. */
    @Test
    void aWriteShorterThanAnnouncedFailsAndLeavesNothing() throws IOException {
        Path f = dir.resolve("short.bin");
        assertThatThrownBy(() -> AtomicFiles.write(f, 10, out -> out.write(java.nio.ByteBuffer.wrap(new byte[4]))))
                .isInstanceOf(IOException.class).hasMessage("cannot write " + f + ": wrote 4 bytes where 10 were "
                        + "announced");
        try (var files = Files.list(dir)) {
            assertThat(files.toList()).isEmpty();
        }
    }
}
