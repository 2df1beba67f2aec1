package org.modnet.fuzz;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import org.modnet.ebpf.api.AttachType;
import org.modnet.ebpf.api.BpfException;
import org.modnet.ebpf.api.BpfMap;
import org.modnet.ebpf.api.BpfObject;
import org.modnet.ebpf.api.BpfProg;
import org.modnet.ebpf.api.BpfSyscall;
import org.modnet.ebpf.api.ProgType;
import org.modnet.ebpf.api.XdpContext;
import org.modnet.ebpf.impl.BpfSyscallImpl;

/**
 * The eBPF loader and verifier, and both engines. An input that starts with the ELF magic is an object
 * (the seeds are clang-built objects and their mutations): parsed, its maps created and each program
 * loaded. Any other input is a program of raw 8-byte instructions over two maps (an array and a hash).
 * Loading may only fail with {@link BpfException}. A program both engines accepted runs on frames made
 * from the input: the interpreter and the JIT must give the same action, the same frame bytes and the
 * same frame bounds, with nothing thrown (a memory fault is the program aborted).
 */
public final class ElfFuzzer {
    /** The eBPF implementation, outside OSGi. */
    static final BpfSyscall BPF = new BpfSyscallImpl();

    static final int HEADROOM = 256;
    private static long objects;
    private static long programs;
    private static long accepted;
    private static long runs;

    public static void fuzzerTearDown() {
        System.err.println("modnet-fuzz: elf: " + objects + " ELF objects, " + programs + " programs (" + accepted + " verified), "
                + runs + " runs on both engines");
    }

    public static void fuzzerTestOneInput(byte[] data) {
        try {
            if (data.length >= 4 && data[0] == 0x7f && data[1] == 'E' && data[2] == 'L' && data[3] == 'F') {
                object(data);
            } else {
                raw(data);
            }
        } catch (BpfException e) {
            // the loader's and verifier's one defined error
        }
    }

    private static void object(byte[] data) throws BpfException {
        objects++;
        BpfObject o = BPF.objOpen(data);
        for (BpfObject.ProgramDef prog : o.programs()) {
            programs++;
            List<BpfMap> forInterpreter = o.createMaps(1);
            List<BpfMap> forJit = o.createMaps(1);
            compare(prog.name(), prog.insns(), forInterpreter, forJit, data);
        }
    }

    private static void raw(byte[] data) throws BpfException {
        programs++;
        long[] insns = new long[Math.min(data.length / 8, 4096)];
        for (int i = 0; i < insns.length; i++) {
            long v = 0;
            for (int j = 7; j >= 0; j--) {
                v = v << 8 | (data[i * 8 + j] & 0xff);
            }
            insns[i] = v;
        }
        compare("raw", insns, maps(), maps(), data);
    }

    private static List<BpfMap> maps() throws BpfException {
        return List.of(BPF.mapCreate("a", BpfMap.MAP_ARRAY, 4, 8, 4, 0, 1), BPF.mapCreate("h", BpfMap.MAP_HASH, 4, 8, 16, 0, 1));
    }

    private static void compare(String name, long[] insns, List<BpfMap> mi, List<BpfMap> mj, byte[] data) throws BpfException {
        BpfProg pi = BPF.progLoad(name, insns.clone(), ProgType.XDP, AttachType.DEFAULT, mi, null, null, "interpreter", false);
        BpfProg pj;
        try {
            pj = BPF.progLoad(name, insns.clone(), ProgType.XDP, AttachType.DEFAULT, mj, null, null, "jit", false);
        } catch (BpfException e) {
            pi.close();
            throw new AssertionError("the interpreter's load verified " + name + " but the JIT's load refused it: " + e.getMessage(), e);
        }
        accepted++;
        try {
            SplittableRandom r = new SplittableRandom(Arrays.hashCode(data));
            XdpContext xi = pi.xdpContext(0);
            XdpContext xj = pj.xdpContext(0);
            for (int k = 0; k < 4; k++) {
                int len = switch (k) {
                    case 0 -> 0;
                    case 1 -> 14;
                    case 2 -> 60;
                    default -> r.nextInt(1515);
                };
                byte[] frame = new byte[len];
                r.nextBytes(frame);
                if (len >= 14 && r.nextBoolean()) {
                    frame[12] = 0x08;
                    frame[13] = 0;
                    if (len > 14) {
                        frame[14] = 0x45;
                    }
                }
                MemorySegment bi = buffer(frame);
                MemorySegment bj = buffer(frame);
                int ai = xi.run(bi, HEADROOM, len, 1, 0);
                int aj = xj.run(bj, HEADROOM, len, 1, 0);
                runs++;
                if (ai != aj || xi.data() != xj.data() || xi.length() != xj.length()
                        || bi.asSlice(0, bi.byteSize()).mismatch(bj) != -1) {
                    throw new AssertionError("interpreter and JIT differ on " + name + " with a " + len + "-byte frame: action " + ai + " vs "
                            + aj + ", data " + xi.data() + " vs " + xj.data() + ", length " + xi.length() + " vs " + xj.length()
                            + "\nxlated:\n" + String.join("\n", BPF.disassemble(pi.xlated()).stream().filter(l -> l != null).toList()));
                }
            }
        } finally {
            pi.close();
            pj.close();
        }
    }

    private static MemorySegment buffer(byte[] frame) {
        MemorySegment b = Arena.ofAuto().allocate(HEADROOM + frame.length + 64, 8);
        MemorySegment.copy(frame, 0, b, ValueLayout.JAVA_BYTE, HEADROOM, frame.length);
        return b;
    }
}
