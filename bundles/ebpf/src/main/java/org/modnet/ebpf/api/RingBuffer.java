package org.modnet.ebpf.api;

import java.util.function.Consumer;

import org.osgi.annotation.versioning.ProviderType;

/** A {@code BPF_MAP_TYPE_RINGBUF} map, as user space reads it: records in the order programs committed them. */
@ProviderType
public interface RingBuffer extends BpfMap {
    /** Hands each committed record to {@code sink} (discarded ones are skipped) and frees it; the number consumed. */
    int consume(Consumer<byte[]> sink);

    /** Records refused because the ring was full. */
    long dropped();
}
