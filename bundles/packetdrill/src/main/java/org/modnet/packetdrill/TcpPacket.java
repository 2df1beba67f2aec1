package org.modnet.packetdrill;

import java.util.List;

/**
 * A TCP packet line (parser.y {@code tcp_packet_spec}):
 * {@code < S. 0:0(0) ack 1 win 32792 <mss 1460,nop,wscale 7>}. Sequence and ack numbers are the
 * script's (relative for all but an inbound SYN's seq; the runner maps them). {@code window} is -1
 * when not given (only an outbound line may omit it: then it is not checked). {@code options} is the
 * list in the order written, empty when the line has none (an outbound packet then must carry none);
 * {@code optionsUnchecked} is {@code <...>}: the options are not checked at all.
 */
public record TcpPacket(Packet.Direction direction, List<Packet.OuterIp> encapsulation, IpInfo ip, Packet.Ports ports, TcpFlags flags,
        long startSeq, int payloadLength, long ack, int window, int urgentPointer, List<TcpOption> options,
        boolean optionsUnchecked) implements Packet {

    public TcpPacket {
        encapsulation = List.copyOf(encapsulation);
        options = List.copyOf(options);
    }

    /** END of {@code START:END(LEN)}. */
    public long endSeq() {
        return startSeq + payloadLength;
    }

    /** The bytes the options take on the wire (a multiple of 4: the parser refuses anything else). */
    public int optionBytes() {
        return options.stream().mapToInt(TcpOption::length).sum();
    }

    /**
     * The packet in the script's syntax, as a failure message shows it:
     * {@code > S. 0:0(0) ack 1 <mss 1460,nop,wscale 8>} (a runner can print the live packet the same way).
     */
    public String toScript() {
        StringBuilder b = new StringBuilder(direction == Packet.Direction.INBOUND ? "<" : ">").append(' ');
        String ipText = ip.toScript();
        if (!ipText.isEmpty()) {
            b.append(ipText).append(' ');
        }
        if (ports != null) {
            b.append(ports.source()).append('>').append(ports.destination()).append(' ');
        }
        b.append(flags).append(' ').append(startSeq).append(':').append(endSeq()).append('(').append(payloadLength)
                .append(')');
        if (flags.ack() || ack != 0) {
            b.append(" ack ").append(ack);
        }
        if (window >= 0) {
            b.append(" win ").append(window);
        }
        if (urgentPointer != 0) {
            b.append(" urg ").append(urgentPointer);
        }
        if (optionsUnchecked) {
            b.append(" <...>");
        } else if (!options.isEmpty()) {
            b.append(" <");
            for (int i = 0; i < options.size(); i++) {
                b.append(i == 0 ? "" : ",").append(options.get(i));
            }
            b.append('>');
        }
        return b.toString();
    }
}
