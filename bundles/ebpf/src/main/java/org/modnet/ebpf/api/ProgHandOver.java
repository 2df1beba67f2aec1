package org.modnet.ebpf.api;

import java.util.List;
import java.util.function.Consumer;

/**
 * One loaded program handed over: what its loader gave {@link BpfSyscall#progLoad} — the instructions
 * before any fixup, type, attach type, name, engine, the ids of its maps in the order its map references
 * index them, the runtime's own helpers and the trace pipe — so the new version verifies and compiles
 * it again under the same id.
 * @since 2.1
 */
public record ProgHandOver(int id, String name, ProgType type, AttachType attach, long[] insns, String engine,
        List<Integer> mapIds, Helpers extra, Consumer<String> tracePipe) {
    public ProgHandOver {
        insns = insns.clone();
        mapIds = List.copyOf(mapIds);
    }
}
