package org.modnet.ebpf.api;

/** What the verifier needs to know of a map a program uses: its type and sizes. */
public interface MapSpec {
    String name();

    /** {@code BPF_MAP_TYPE_*}. */
    int type();

    int keySize();

    int valueSize();

    int maxEntries();
}
