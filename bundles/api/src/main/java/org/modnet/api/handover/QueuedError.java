package org.modnet.api.handover;

/**
 * An entry of a socket's error queue ({@code IP_RECVERR}'s {@code sk_error_queue}) as a hand-over
 * carries it (1.12): its {@code sock_extended_err} (errno, origin, ICMP type and code, info, the
 * offender), the quoted destination's address and port, the TTL the ICMP error came with (-1 for none)
 * and the quoted payload, the entry's own copy.
 */
public record QueuedError(int errno, int origin, int type, int code, int info, int offender, int address, int port, int ttl,
        byte[] payload) {
}
