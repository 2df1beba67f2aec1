package org.modnet.api.handover;

/**
 * An out-of-order segment held for the hole before it: its first sequence number, its payload (the
 * array is the segment's own copy) and whether it carried FIN.
 */
public record TcpSegment(int seq, byte[] payload, boolean fin) {
}
