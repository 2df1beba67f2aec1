package org.modnet.ebpf.api;

import java.util.List;

/**
 * What an implementation leaving for an update hands its next version ({@link BpfSyscall#handOver()}):
 * its maps and loaded programs as API values, each under its id, which the new version keeps. The
 * layout {@code version} says how to read it; a reader that does not know it adopts nothing.
 * @since 2.1
 */
public record BpfHandOver(int version, List<MapHandOver> maps, List<ProgHandOver> progs) {
    /** The layout this API describes. */
    public static final int VERSION = 1;

    public BpfHandOver {
        maps = List.copyOf(maps);
        progs = List.copyOf(progs);
    }
}
