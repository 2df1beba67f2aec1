package org.modnet.core;

import org.modnet.api.net.PacketOffload;

/**
 * The {@code offload_base} list: software segmentation by ethertype ({@code dev_add_offload}). Offloads
 * come and go as services; the list is copied on change and read without a lock on the transmit path.
 */
final class GsoDispatch {
    private record Entry(int ethertype, PacketOffload offload) {
    }

    private volatile Entry[] entries = new Entry[0];

    synchronized void add(int ethertype, PacketOffload offload) {
        Entry[] old = entries;
        Entry[] now = java.util.Arrays.copyOf(old, old.length + 1);
        now[old.length] = new Entry(ethertype & 0xffff, offload);
        entries = now;
    }

    synchronized void remove(int ethertype, PacketOffload offload) {
        entries = java.util.Arrays.stream(entries).filter(e -> e.offload != offload || e.ethertype != (ethertype & 0xffff))
                .toArray(Entry[]::new);
    }

    /** The offload for {@code ethertype}, or null ({@code gso_find}: a frame nobody can cut is dropped). */
    PacketOffload find(int ethertype) {
        for (Entry e : entries) {
            if (e.ethertype == ethertype) {
                return e.offload;
            }
        }
        return null;
    }
}
