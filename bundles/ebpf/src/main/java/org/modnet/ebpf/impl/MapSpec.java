package org.modnet.ebpf.impl;


/** What the verifier needs to know of a map a program uses: its type and sizes. */
public interface MapSpec {
    String name();

    /** {@code BPF_MAP_TYPE_*}. */
    int type();

    int keySize();

    int valueSize();

    int maxEntries();

    /** {@code BPF_F_*} map flags; {@link BpfMapBase#BPF_F_RDONLY_PROG} makes its values read-only to programs. */
    default int flags() {
        return 0;
    }

    /** An array or hash of maps' inner map template ({@code inner_map_meta}): what its values are maps of; null for other maps. */
    default MapSpec innerMap() {
        return null;
    }

    /** A map's shape alone: an inner map template. */
    record Template(String name, int type, int keySize, int valueSize, int maxEntries, int flags) implements MapSpec {
    }
}
