package org.modnet.api.handover;

import org.modnet.api.inet.Neighbour;

/**
 * A neighbour entry as the ARP layer hands it over: what {@code ip neigh} shows of it (state, link
 * address, the ages of its last use, confirmation and change, its probes) and the time its timer had
 * left, so the new version arms it where the old one stopped. Packets waiting for resolution do not
 * travel: {@code view().queued()} of them were dropped and counted. @since 1.1
 *
 * @param view             the entry
 * @param timerRemainingMs milliseconds until its timer was due, or -1 when no timer ran
 */
public record NeighbourState(Neighbour view, long timerRemainingMs) {
}
