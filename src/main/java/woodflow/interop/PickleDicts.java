package woodflow.interop;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;

/**
 * Makes a Python pickle's {@code collections.OrderedDict}s readable by libtorch's unpickler, which turns every
 * OrderedDict into None (its source: "OrderedDicts only appear in tensor deserialization and their value is never
 * used"), so a {@code torch.save(model.state_dict())} file fails in {@code torch::pickle_load} with "Expected
 * GenericDict but got None". Two substitutions, nothing else changes:
 * <pre>
 *   OrderedDict-global ) R     ->   OrderedDict-global NEWOBJ {}   (an empty plain dict instead of None)
 *   BUILD                      ->   NEWOBJ                         (drops the state of the object below it: an
 *                                                                   OrderedDict's _metadata attribute)
 * </pre>
 * libtorch's unpickler has no POP opcode; its NEWOBJ pops the top of the stack and nothing else (it expects the
 * empty argument tuple there), so it serves as one.
 * This is an opcode scanner, not an unpickler: it walks the opcodes only to know where each one ends (so that no byte
 * inside a string or an integer argument is mistaken for an opcode) and builds no object; libtorch's own unpickler
 * reads the result. Protocols 0-3 (torch.save uses 2); a file that uses protocol 4's STACK_GLOBAL is refused.
 */
final class PickleDicts {
    private PickleDicts() {}

    /** libtorch's unpickler has no POP; its NEWOBJ pops the top of the stack and does nothing else. */
    private static final int NEWOBJ = 0x81;
    private static final String ORDERED_DICT = "collections\nOrderedDict\n";

    static byte[] plainDicts(byte[] p, String what) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(p.length + 64);
        Set<Long> odMemo = new HashSet<>();
        boolean lastWasOrderedDict = false; // the top of the stack is the OrderedDict global
        boolean pendingReduce = false;      // saw ")" right after it
        int i = 0;
        while (i < p.length) {
            int op = p[i] & 0xff;
            int start = i;
            int len = argumentLength(p, i, what); // bytes of the opcode and its argument
            i += len;
            boolean isOd = false;
            switch (op) {
                case 'c' -> isOd = new String(p, start + 1, len - 1, StandardCharsets.ISO_8859_1).equals(ORDERED_DICT);
                case 'h' -> isOd = odMemo.contains((long) (p[start + 1] & 0xff));
                case 'j' -> isOd = odMemo.contains(u32(p, start + 1));
                case 'q', 'r' -> {
                    if (lastWasOrderedDict && !pendingReduce) odMemo.add(op == 'q' ? (long) (p[start + 1] & 0xff)
                            : u32(p, start + 1));
                    out.write(p, start, len);
                    continue; // memoising keeps the global on top of the stack
                }
                case ')' -> {
                    if (lastWasOrderedDict && !pendingReduce) {
                        pendingReduce = true;
                        continue; // written (or replaced) when the next opcode is seen
                    }
                }
                case 'R' -> {
                    if (pendingReduce) {
                        out.write(NEWOBJ); // libtorch's NEWOBJ pops one item: the global
                        out.write('}');    // an empty dict in its place
                        pendingReduce = false;
                        lastWasOrderedDict = false;
                        continue;
                    }
                }
                case 'b' -> {
                    out.write(NEWOBJ);
                    lastWasOrderedDict = false;
                    continue;
                }
                case 0x93 -> throw new IOException(what + " uses pickle protocol 4 or later (STACK_GLOBAL), which "
                        + "libtorch's reader does not take: save it again with torch.save's default protocol (2)");
                default -> { }
            }
            if (pendingReduce) { // ")" not followed by REDUCE: write it back unchanged
                out.write(')');
                pendingReduce = false;
            }
            lastWasOrderedDict = isOd;
            out.write(p, start, len);
        }
        return out.toByteArray();
    }

    private static long u32(byte[] p, int at) {
        return (p[at] & 0xffL) | (p[at + 1] & 0xffL) << 8 | (p[at + 2] & 0xffL) << 16 | (p[at + 3] & 0xffL) << 24;
    }

    private static int lineEnd(byte[] p, int from, String what) throws IOException {
        for (int j = from; j < p.length; j++) if (p[j] == '\n') return j + 1;
        throw new IOException(what + ": truncated pickle (a text argument has no end)");
    }

    /** The length of the opcode at {@code i} with its argument. */
    private static int argumentLength(byte[] p, int i, String what) throws IOException {
        int op = p[i] & 0xff;
        int n = switch (op) {
            // no argument
            case ')', '}', ']', '(', 't', 0x85, 0x86, 0x87, 'R', 'b', 0x81, 0x92, 's', 'u', 'a', 'e', 'd', 'l', '0',
                 '1', '2', '.', 'N', 0x88, 0x89, 'Q', 0x94, 0x8f, 0x90, 0x91, 0x93 -> 1;
            case 0x80, 'q', 'h', 'K' -> 2;
            case 'M' -> 3;
            case 'r', 'j', 'J' -> 5;
            case 'G', 0x95 -> 9;
            case 0x8a, 0x8c, 'U', 'C' -> i + 1 < p.length ? 2 + (p[i + 1] & 0xff) : 2;
            case 0x8b, 'X', 'T', 'B' -> i + 4 < p.length ? (int) (5 + u32(p, i + 1)) : 5;
            case 'I', 'L', 'S', 'V', 'F', 'p', 'g', 'P' -> lineEnd(p, i + 1, what) - i;
            case 'c' -> lineEnd(p, lineEnd(p, i + 1, what), what) - i;
            default -> throw new IOException(what + ": pickle opcode 0x" + Integer.toHexString(op) + " at byte " + i
                    + " is not one torch.save writes for a state_dict");
        };
        if (n <= 0 || i + n > p.length) throw new IOException(what + ": truncated pickle at byte " + i);
        return n;
    }
}
