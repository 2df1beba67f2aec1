package org.modnet.api.handover;

/**
 * A queued datagram: who sent it (IPv4 address and port, as {@code recvfrom} reports them) and its
 * payload. The array is the datagram's own copy; nobody else holds it.
 */
public record Datagram(int sourceAddress, int sourcePort, byte[] payload) {
}
