package org.modnet.capture;

import java.util.List;
import java.util.function.Predicate;

import org.modnet.ebpf.api.BpfSyscall;
import org.modnet.ebpf.impl.BpfSyscallImpl;

/** The fuzz targets' door to the package-private filter compilers (no OSGi, no tcpdump command around them). */
public final class FilterAccess {
    /** The eBPF implementation, outside OSGi. */
    private static final BpfSyscall BPF = new BpfSyscallImpl();

    private FilterAccess() {
    }

    /**
     * Compiles {@code words} both ways, the eBPF filter tcpdump runs and the interpreted one; for an
     * expression both accept, each frame must pass or fail both. Only the defined syntax error,
     * {@link IllegalArgumentException}, may come out.
     */
    public static void check(List<String> words, List<byte[]> frames) {
        BpfFilter bpf;
        try {
            bpf = BpfFilter.compile(BPF, words);
        } catch (IllegalArgumentException e) {
            bpf = null;
        }
        Predicate<Frame> interpreted;
        try {
            interpreted = Filter.parse(words);
        } catch (IllegalArgumentException e) {
            interpreted = null;
        }
        if (bpf == null || interpreted == null) {
            return;
        }
        for (byte[] f : frames) {
            boolean a = bpf.test(f);
            boolean b = interpreted.test(new Frame(f));
            if (a != b) {
                throw new AssertionError("the compiled filter says " + a + " and the interpreted one " + b + " for " + words + " on "
                        + java.util.HexFormat.of().formatHex(f));
            }
        }
    }
}
