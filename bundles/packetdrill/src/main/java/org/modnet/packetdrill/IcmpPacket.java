package org.modnet.packetdrill;

import java.util.List;

/**
 * An ICMP packet line (parser.y {@code icmp_packet_spec}):
 * {@code < icmp unreachable frag_needed mtu 1200 [1:1461(1460)]}. {@code type} and {@code code} are
 * the names written (packetdrill resolves them for ICMPv4 or ICMPv6 by the run's IP version);
 * {@code code} is null when not given, {@code mtu} is -1 when not given. {@code echoed} is the packet
 * the ICMP message quotes: a TCP {@code [seq]}, {@code [udp (N)]} or {@code [raw (N)]}; a line without
 * one quotes TCP {@code 0:0(0)}.
 */
public record IcmpPacket(Packet.Direction direction, List<Packet.OuterIp> encapsulation, IpInfo ip, String type, String code,
        int mtu, int echoId, Echoed echoed) implements Packet {

    public IcmpPacket {
        encapsulation = List.copyOf(encapsulation);
    }

    public record Echoed(Protocol protocol, long startSeq, int payloadLength) {
    }

    public enum Protocol { TCP, UDP, RAW }
}
