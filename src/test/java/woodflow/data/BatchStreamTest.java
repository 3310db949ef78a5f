package woodflow.data;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BatchStreamTest {
    /** Image i is 4 bytes all equal to i, so a batch's content shows which images it holds. */
    private static ArraySource numbered(int n) {
        List<byte[]> images = new ArrayList<>();
        for (int i = 0; i < n; i++) images.add(new byte[] {(byte) i, (byte) i, (byte) i, (byte) i});
        return new ArraySource(images, 1, 2, 2, "numbered");
    }

    private static List<Integer> take(BatchStream s, int batches) {
        List<Integer> out = new ArrayList<>();
        for (int b = 0; b < batches; b++) {
            BatchStream.Batch batch = s.next();
            for (int i = 0; i < batch.size(); i++) {
                assertThat(batch.images().get(i)[0] & 255).isEqualTo(batch.indices()[i]);
                out.add(batch.indices()[i]);
            }
        }
        return out;
    }

    @Test
    void sameSeedSameOrderAndEveryEpochIsAPermutation() {
        ArraySource src = numbered(10);
        List<Integer> a;
        List<Integer> b;
        List<Integer> c;
        try (BatchStream s = BatchStream.shuffled(src, 4, 9, 0, 2, 4)) {
            a = take(s, 10);
        }
        try (BatchStream s = BatchStream.shuffled(src, 4, 9, 0, 0, 1)) {
            b = take(s, 10);
        }
        try (BatchStream s = BatchStream.shuffled(src, 4, 10, 0, 2, 4)) {
            c = take(s, 10);
        }
        assertThat(a).isEqualTo(b).isNotEqualTo(c);
        for (int e = 0; e < 4; e++) {
            assertThat(a.subList(10 * e, 10 * e + 10)).containsExactlyInAnyOrder(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
        }
        // epoch 0 and 1 are the pinned permutations of SplitMix64 streams (9, 0) and (9, 1)
        assertThat(a.subList(0, 10)).containsExactly(7, 2, 3, 0, 1, 8, 4, 9, 6, 5);
        assertThat(a.subList(10, 20)).containsExactly(1, 7, 4, 9, 0, 6, 3, 2, 8, 5);
    }

    @Test
    void resumingContinuesTheOrderWhereItStopped() {
        ArraySource src = numbered(7);
        List<Integer> full;
        try (BatchStream s = BatchStream.shuffled(src, 3, 5, 0, 2, 4)) {
            full = take(s, 12);
        }
        long saved;
        List<Integer> firstPart;
        try (BatchStream s = BatchStream.shuffled(src, 3, 5, 0, 2, 4)) {
            firstPart = take(s, 5);
            saved = s.position();
            assertThat(s.epoch()).isEqualTo(15 / 7);
        }
        assertThat(saved).isEqualTo(5);
        try (BatchStream s = BatchStream.shuffled(src, 3, 5, saved, 2, 4)) {
            BatchStream.Batch next = s.next();
            assertThat(next.index()).isEqualTo(5);
            assertThat(next.epoch()).isEqualTo(2); // positions 15..17 start in epoch 2
            List<Integer> rest = new ArrayList<>();
            for (int i : next.indices()) rest.add(i);
            rest.addAll(take(s, 6));
            List<Integer> resumed = new ArrayList<>(firstPart);
            resumed.addAll(rest);
            assertThat(resumed).isEqualTo(full);
        }
    }

    @Test
    void orderedPassCoversEverythingOnceWithAShortLastBatch() {
        try (BatchStream s = BatchStream.ordered(numbered(10), 4, 2)) {
            List<Integer> seen = new ArrayList<>();
            List<Integer> sizes = new ArrayList<>();
            while (s.hasNext()) {
                BatchStream.Batch b = s.next();
                sizes.add(b.size());
                for (int i : b.indices()) seen.add(i);
            }
            assertThat(sizes).containsExactly(4, 4, 2);
            assertThat(seen).containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
            assertThatThrownBy(s::next).hasMessageContaining("ordered pass has ended after 3 batches");
        }
    }

    @Test
    void decodingErrorsReachTheConsumer() {
        ImageSource broken = new ImageSource() {
            public int size() {
                return 5;
            }

            public int channels() {
                return 1;
            }

            public int height() {
                return 1;
            }

            public int width() {
                return 1;
            }

            public byte[] image(int index) {
                if (index == 3) throw new DataException("img3.png: cannot decode image");
                return new byte[1];
            }

            public String describe() {
                return "broken";
            }
        };
        try (BatchStream s = BatchStream.ordered(broken, 2, 2)) {
            s.next();
            assertThatThrownBy(s::next).isInstanceOf(DataException.class)
                    .hasMessageContaining("decoding batch 1 failed: img3.png: cannot decode image");
        }
    }

    @Test
    void decodesOnBackgroundThreadsAheadOfTheConsumerWithinTheBound() throws Exception {
        AtomicInteger decoded = new AtomicInteger();
        java.util.Set<Thread> threads = java.util.concurrent.ConcurrentHashMap.newKeySet();
        java.util.concurrent.CountDownLatch thirty = new java.util.concurrent.CountDownLatch(30);
        ArraySource base = numbered(100);
        ImageSource spy = new ImageSource() {
            public int size() {
                return base.size();
            }

            public int channels() {
                return 1;
            }

            public int height() {
                return 2;
            }

            public int width() {
                return 2;
            }

            public byte[] image(int index) {
                decoded.incrementAndGet();
                thirty.countDown();
                threads.add(Thread.currentThread());
                return base.image(index);
            }

            public String describe() {
                return "spy";
            }
        };
        try (BatchStream s = BatchStream.shuffled(spy, 5, 1, 0, 2, 4)) {
            assertThat(thirty.await(5, java.util.concurrent.TimeUnit.SECONDS)).as("30 images decoded").isTrue();
            assertThat(threads).extracting(Thread::getName)
                    .containsExactlyInAnyOrder("woodflow-data-0", "woodflow-data-1");
            // Once both workers wait on their full queues nothing more can be decoded until next() takes a batch.
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (!threads.stream().allMatch(t -> t.getState() == Thread.State.WAITING)
                    && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            assertThat(threads).extracting(Thread::getState).containsOnly(Thread.State.WAITING);
            // prefetch 4 over 2 workers: each queue holds 2 batches and each worker one more, blocked on the full queue
            assertThat(decoded.get()).isEqualTo(30);
            assertThat(s.next().index()).isZero();
        }
    }

    @Test
    void emptySourceAndBadArguments() {
        assertThatThrownBy(() -> BatchStream.shuffled(numbered(0), 4, 0, 0, 1, 1))
                .hasMessageContaining("numbered: 0 images").hasMessageContaining("empty data set");
        assertThatThrownBy(() -> BatchStream.shuffled(numbered(3), 0, 0, 0, 1, 1)).hasMessageContaining("batch size");
        assertThatThrownBy(() -> BatchStream.shuffled(numbered(3), 2, 0, -1, 1, 1)).hasMessageContaining("start batch");
    }

    @Test
    void batchSizeLargerThanTheDataSetSpansEpochs() {
        try (BatchStream s = BatchStream.shuffled(numbered(3), 7, 2, 0, 0, 1)) {
            int[] idx = s.next().indices();
            assertThat(idx).hasSize(7);
            assertThat(Arrays.copyOf(idx, 3)).containsExactlyInAnyOrder(0, 1, 2);
        }
    }
}
