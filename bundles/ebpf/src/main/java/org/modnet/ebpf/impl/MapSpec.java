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
}
