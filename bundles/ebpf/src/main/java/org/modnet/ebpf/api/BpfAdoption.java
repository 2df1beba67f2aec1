package org.modnet.ebpf.api;

import java.util.List;
import java.util.Map;

/**
 * What a new implementation made of a {@link BpfHandOver}: the programs and maps it adopted (each under
 * its old id; the caller holds one reference to each program and lets go of those it does not keep),
 * the programs it refused with the verifier's reason, and how many maps' storage it took over or had to
 * copy (a layout it does not read).
 * @since 2.1
 */
public record BpfAdoption(List<BpfProg> progs, List<BpfMap> maps, Map<Integer, String> refused, int mapsTakenOver, int mapsCopied) {
    public BpfAdoption {
        progs = List.copyOf(progs);
        maps = List.copyOf(maps);
        refused = Map.copyOf(refused);
    }

    /** The adopted program of this id, or null. */
    public BpfProg prog(int id) {
        return progs.stream().filter(p -> p.id() == id).findFirst().orElse(null);
    }

    /** The adopted map of this id, or null. */
    public BpfMap map(int id) {
        return maps.stream().filter(m -> m.id() == id).findFirst().orElse(null);
    }
}
