package org.modnet.ebpf.api;

import java.util.List;

/**
 * A map as plain values, taken at one moment: its attributes and its entries, each with one value per
 * CPU ({@link BpfMap#cpus()} of them). Holds no implementation object, so it crosses a bundle update.
 */
public record MapState(String name, int type, int keySize, int valueSize, int maxEntries, int flags, int cpus,
        List<Entry> entries) {
    public MapState {
        entries = List.copyOf(entries);
    }

    /** A key and its value on each CPU (one value for maps that are not per-CPU). */
    public record Entry(byte[] key, List<byte[]> values) {
        public Entry {
            values = List.copyOf(values);
        }
    }
}
