package org.modnet.packetdrill;

import java.util.List;

/** A UDP packet line (parser.y {@code udp_packet_spec}): {@code < udp (1000)} or {@code > udp 1234>53 (20)}. */
public record UdpPacket(Packet.Direction direction, List<Packet.OuterIp> encapsulation, IpInfo ip, Packet.Ports ports, int payloadLength)
        implements Packet {

    public UdpPacket {
        encapsulation = List.copyOf(encapsulation);
    }
}
