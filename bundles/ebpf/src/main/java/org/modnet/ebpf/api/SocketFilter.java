package org.modnet.ebpf.api;

import java.lang.foreign.MemorySegment;

import org.osgi.annotation.versioning.ProviderType;

/**
 * A program run on a frame's bytes ({@link ProgType#RAW}: r1 points to them, r2 is their length), as
 * a socket filter runs: {@code tcpdump}'s compiled expression. Not thread-safe: one per user.
 */
@ProviderType
public interface SocketFilter {
    /** r0 of a run on {@code frame} (read-only to the program); throws {@link BpfFault} on a fault. */
    long run(MemorySegment frame);

    /** "jit" or "interpreter". */
    String engine();
}
