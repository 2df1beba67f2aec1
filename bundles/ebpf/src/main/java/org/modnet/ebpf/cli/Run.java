package org.modnet.ebpf.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

import org.modnet.ebpf.api.BpfException;
import org.modnet.ebpf.api.BpfFault;
import org.modnet.ebpf.api.Helpers;
import org.modnet.ebpf.impl.Engines;
import org.modnet.ebpf.impl.Executable;
import org.modnet.ebpf.impl.Memory;
import org.modnet.ebpf.impl.Program;

/**
 * The eBPF runner without the stack, speaking the bpf_conformance plugin protocol: the program as hex
 * bytes on standard input (8 per instruction, little-endian, whitespace ignored), the input memory as
 * hex in the first argument (r1 points to it, r2 is its length), r0 printed in hex on standard output.
 * A program refused (bad encoding) or stopped (memory fault, unknown helper, endless loop) prints the
 * reason on standard error and exits with status 1. {@code --jit} (the default) or {@code --interpret}
 * choose the engine. Helper 5 is the suite's "unwind".
 */
public final class Run {
    private Run() {
    }

    public static void main(String[] args) throws IOException {
        System.exit(run(args, System.in, System.out, System.err));
    }

    static String usage() {
        return "usage: modnet-bpf [--jit | --interpret] [MEMORY-HEX] < PROGRAM-HEX";
    }

    /** Runs the command; returns its exit status. */
    public static int run(String[] args, InputStream in, PrintStream out, PrintStream err) throws IOException {
        String engine = "jit";
        String memory = "";
        for (String a : args) {
            switch (a) {
                case "--jit" -> engine = "jit";
                case "--interpret", "--interpreter" -> engine = "interpreter";
                case "-h", "--help" -> {
                    out.println(usage());
                    return 0;
                }
                default -> {
                    if (a.startsWith("--")) {
                        err.println("modnet-bpf: unknown option " + a + "\n" + usage());
                        return 2;
                    }
                    memory = a;
                }
            }
        }
        try {
            byte[] code = hex(new String(in.readAllBytes(), StandardCharsets.US_ASCII), "program");
            if (code.length == 0 || code.length % 8 != 0) {
                throw new BpfException("the program is " + code.length + " bytes, not a positive multiple of 8");
            }
            long[] insns = new long[code.length / 8];
            ByteBuffer.wrap(code).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(insns);
            Program p = Program.of("stdin", insns);
            Helpers helpers = new Helpers().register(5, "unwind", (r1, r2, r3, r4, r5, m) -> r1, true);
            Executable e = Engines.byName(engine, p, helpers);
            byte[] mem = hex(memory, "memory");
            Memory m = new Memory();
            long r1 = 0;
            if (mem.length > 0) {
                MemorySegment seg = MemorySegment.ofArray(new long[(mem.length + 7) / 8]).asSlice(0, mem.length);
                MemorySegment.copy(mem, 0, seg, ValueLayout.JAVA_BYTE, 0, mem.length);
                r1 = m.set(Memory.FIRST_FREE, seg, true);
            }
            long r0 = e.run(m, r1, mem.length);
            out.println(Long.toHexString(r0));
            return 0;
        } catch (BpfException e) {
            err.println("modnet-bpf: " + e.getMessage());
            return 1;
        } catch (BpfFault f) {
            err.println("modnet-bpf: " + f.getMessage());
            return 1;
        }
    }

    private static byte[] hex(String text, String what) throws BpfException {
        String t = text.replaceAll("\\s+", "");
        if (t.startsWith("0x")) {
            t = t.substring(2);
        }
        if (t.length() % 2 != 0 || !t.matches("[0-9a-fA-F]*")) {
            throw new BpfException("the " + what + " is not hex bytes");
        }
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int i = 0; i < t.length(); i += 2) {
            b.write(Integer.parseInt(t.substring(i, i + 2), 16));
        }
        return b.toByteArray();
    }
}
