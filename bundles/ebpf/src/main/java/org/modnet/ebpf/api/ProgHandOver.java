package org.modnet.ebpf.api;

import java.util.List;
import java.util.function.Consumer;

/**
 * One loaded program handed over: what its loader gave {@link BpfSyscall#progLoad} — the instructions
 * before any fixup, type, attach type, name, engine, the ids of its maps in the order its map references
 * index them, the runtime's own helpers and the trace pipe — so the new version verifies and compiles
 * it again under the same id — with the starts of its subprograms whose BTF return type is no int
 * ({@link BpfObject.ProgramDef#nonScalarReturns}, since 2.6) and its global functions
 * ({@link BpfObject.ProgramDef#globalFuncs}, since 2.7), so the new verifier holds it to the same rules.
 * @since 2.1
 */
public record ProgHandOver(int id, String name, ProgType type, AttachType attach, long[] insns, String engine,
        List<Integer> mapIds, Helpers extra, Consumer<String> tracePipe, int[] nonScalarReturns, int[] globalFuncs) {
    public ProgHandOver {
        insns = insns.clone();
        mapIds = List.copyOf(mapIds);
        nonScalarReturns = nonScalarReturns == null ? new int[0] : nonScalarReturns.clone();
        globalFuncs = globalFuncs == null ? new int[0] : globalFuncs.clone();
    }

    /** A program whose loader gave no global functions (2.6's hand-over). */
    public ProgHandOver(int id, String name, ProgType type, AttachType attach, long[] insns, String engine, List<Integer> mapIds,
            Helpers extra, Consumer<String> tracePipe, int[] nonScalarReturns) {
        this(id, name, type, attach, insns, engine, mapIds, extra, tracePipe, nonScalarReturns, new int[0]);
    }

    /** A program whose loader gave no BTF return types (2.1 to 2.5's hand-over). */
    public ProgHandOver(int id, String name, ProgType type, AttachType attach, long[] insns, String engine, List<Integer> mapIds,
            Helpers extra, Consumer<String> tracePipe) {
        this(id, name, type, attach, insns, engine, mapIds, extra, tracePipe, new int[0], new int[0]);
    }

    @Override
    public int[] nonScalarReturns() {
        return nonScalarReturns.clone();
    }

    /** @since 2.7 */
    @Override
    public int[] globalFuncs() {
        return globalFuncs.clone();
    }
}
