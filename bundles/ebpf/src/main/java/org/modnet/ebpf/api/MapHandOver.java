package org.modnet.ebpf.api;

import java.util.List;
import java.util.function.Supplier;

/**
 * One map handed over: its id and attributes, and its storage as JDK objects (the values'
 * {@code MemorySegment}s, a hash map's index arrays and its lock, the mutable scalars in an array) laid
 * out as {@code layout} says. A new version that knows the layout takes the storage over, so the old
 * version's programs, still running during the swap, and the new one's write the same memory; one
 * that does not rebuilds the map from {@code contents} (a copy, taken when it asks).
 * @since 2.1
 *
 * @param layout   the storage layout's number for this map type, 0 when the storage cannot be taken over
 * @param storage  the storage, in the layout's order (empty when {@code layout} is 0)
 * @param contents the map's entries as values, read when called
 */
public record MapHandOver(int id, String name, int type, int keySize, int valueSize, int maxEntries, int flags, int cpus,
        int layout, List<Object> storage, Supplier<MapState> contents) {
    public MapHandOver {
        storage = List.copyOf(storage);
    }
}
