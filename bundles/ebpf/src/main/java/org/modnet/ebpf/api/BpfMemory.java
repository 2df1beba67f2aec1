package org.modnet.ebpf.api;

import java.lang.foreign.MemorySegment;

import org.osgi.annotation.versioning.ProviderType;

/**
 * A program's address space as a helper sees it: the CPU the program runs on, the bytes behind an
 * address it passed, and, at XDP, the receiving device the runtime set on its {@link XdpContext}.
 * Addresses are the program's own (a region in the upper 32 bits, an offset in the lower).
 */
@ProviderType
public interface BpfMemory {
    /** The CPU whose values of per-CPU maps the program uses ({@code bpf_get_smp_processor_id}). */
    int cpu();

    /**
     * The whole region {@code [addr, addr + size)} lies in, if the program may read it (and write it,
     * with {@code write}); null otherwise. The offset of {@code addr} in it is {@code addr & 0xffffffffL}.
     */
    MemorySegment regionOf(long addr, long size, boolean write);

    /** The bytes {@code [addr, addr + size)} as a slice, or null if the program may not touch them so. */
    MemorySegment slice(long addr, long size, boolean write);

    /** At XDP, the object {@link XdpContext#device(Object)} set (the receiving device); else null. */
    Object device();
}
