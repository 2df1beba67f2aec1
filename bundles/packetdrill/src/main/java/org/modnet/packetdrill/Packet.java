package org.modnet.packetdrill;

import java.util.List;

/**
 * A packet line: {@code <} is built by the runner and injected, {@code >} must match what the stack
 * sends next. {@code encapsulation} lists outer {@code ipv4 A > B:} / {@code ipv6 A > B:} headers,
 * outermost first; {@code ip} is the {@code [ect0]}, {@code [tos 0x..]}, {@code [ttl N]},
 * {@code [flowlabel 0x..]} part of the inner packet.
 */
public sealed interface Packet extends Action permits TcpPacket, UdpPacket, IcmpPacket {
    Direction direction();

    List<OuterIp> encapsulation();

    IpInfo ip();

    enum Direction {
        /** {@code <}: from the remote end to the stack. */
        INBOUND,
        /** {@code >}: from the stack to the remote end. */
        OUTBOUND
    }

    /** An outer IP header written before the packet ({@code ipv4 192.0.2.1 > 192.168.0.1:}). */
    record OuterIp(int version, IpInfo ip, String source, String destination) {
    }

    /** {@code 1234>8080} written before the flags; null in a packet when the script gives no ports. */
    record Ports(int source, int destination) {
    }
}
