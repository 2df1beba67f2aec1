package org.modnet.api.inet;

import org.modnet.api.net.MacAddress;
import org.modnet.api.net.NetDevice;

/**
 * A neighbour entry as {@code ip neigh} shows it.
 *
 * @param address    the IPv4 address, as an int in network order
 * @param lladdr     the link-layer address, or null while unresolved
 * @param usedMs     milliseconds since it was last used
 * @param confirmedMs milliseconds since it was last confirmed
 * @param updatedMs  milliseconds since its state last changed
 * @param probes     requests sent in its current resolution
 * @param queued     packets waiting for resolution
 * @param refcnt     references beyond the table's own, {@code ndm_refcnt} ({@code ip -s neigh}'s {@code ref}):
 *                   an entry with none may be garbage-collected
 */
public record Neighbour(int address, NetDevice dev, MacAddress lladdr, NudState state, long usedMs, long confirmedMs,
        long updatedMs, int probes, int queued, int refcnt) {

    /** An entry without references (the form before {@code refcnt} was added). */
    public Neighbour(int address, NetDevice dev, MacAddress lladdr, NudState state, long usedMs, long confirmedMs,
            long updatedMs, int probes, int queued) {
        this(address, dev, lladdr, state, usedMs, confirmedMs, updatedMs, probes, queued, 0);
    }
}
