package org.modnet.packetdrill;

/**
 * An IPv4 TCP segment the stack sent on the test device, as the runner compares it with a {@code >}
 * line: the header fields packetdrill checks, the options' bytes and the payload length, with the
 * core's clock (ns) when the device was handed it. Only TCP over IPv4 is parsed; anything else is
 * null (the device counts it dropped).
 */
record LivePacket(long nanos, int saddr, int daddr, int tos, int ttl, int ipHeaderLength, int totalLength, int sport,
        int dport, long seq, long ack, int dataOffset, int flags, int window, int urgentPointer, byte[] options,
        int payloadLength) {

    static final int FIN = 0x01;
    static final int SYN = 0x02;
    static final int RST = 0x04;
    static final int PSH = 0x08;
    static final int ACK = 0x10;
    static final int URG = 0x20;
    static final int ECE = 0x40;
    static final int CWR = 0x80;
    static final int AE = 0x100;

    static LivePacket parse(byte[] ip, long nanos) {
        if (ip.length < 40 || (ip[0] & 0xf0) != 0x40 || (ip[9] & 0xff) != 6) {
            return null;
        }
        int ihl = (ip[0] & 0x0f) * 4;
        int total = u16(ip, 2);
        if (ihl < 20 || total > ip.length || total < ihl + 20) {
            return null;
        }
        int th = ihl;
        int doff = ((ip[th + 12] & 0xf0) >>> 4) * 4;
        if (doff < 20 || th + doff > total) {
            return null;
        }
        int flags = (ip[th + 13] & 0xff) | (ip[th + 12] & 0x01) << 8;
        byte[] options = java.util.Arrays.copyOfRange(ip, th + 20, th + doff);
        return new LivePacket(nanos, (int) u32(ip, 12), (int) u32(ip, 16), ip[1] & 0xff, ip[8] & 0xff, ihl, total,
                u16(ip, th), u16(ip, th + 2), u32(ip, th + 4), u32(ip, th + 8), doff, flags, u16(ip, th + 14),
                u16(ip, th + 18), options, total - th - doff);
    }

    /** tcpdump's words for the packet, in live numbers: {@code 8080 > 48000 S. 123:123(0) ack 1 win 65535 <...>}. */
    String summary() {
        StringBuilder f = new StringBuilder();
        String letters = "FSRP.UEW";
        for (int i = 0; i < 8; i++) {
            if ((flags & (1 << i)) != 0) {
                f.append(letters.charAt(i));
            }
        }
        return sport + " > " + dport + " " + (f.isEmpty() ? "-" : f) + " " + seq + ":" + (seq + payloadLength & 0xffffffffL)
                + "(" + payloadLength + ") ack " + ack + " win " + window + (options.length == 0 ? "" : " <" + optionsText() + ">");
    }

    boolean has(int flag) {
        return (flags & flag) != 0;
    }

    /** The options in the script's syntax ({@code mss 1460,nop,wscale 8}), unknown kinds by number. */
    String optionsText() {
        StringBuilder b = new StringBuilder();
        int i = 0;
        while (i < options.length) {
            int kind = options[i] & 0xff;
            b.append(b.isEmpty() ? "" : ",");
            if (kind == TcpOption.KIND_EOL || kind == TcpOption.KIND_NOP) {
                b.append(kind == 0 ? "eol" : "nop");
                i++;
                continue;
            }
            int len = i + 1 < options.length ? options[i + 1] & 0xff : 0;
            if (len < 2 || i + len > options.length) {
                b.append("[bad option kind ").append(kind).append(']');
                break;
            }
            switch (kind) {
                case TcpOption.KIND_MSS -> b.append(len == 4 ? "mss " + u16(options, i + 2) : "mss ?");
                case TcpOption.KIND_WSCALE -> b.append(len == 3 ? "wscale " + (options[i + 2] & 0xff) : "wscale ?");
                case TcpOption.KIND_SACK_PERMITTED -> b.append("sackOK");
                case TcpOption.KIND_SACK -> {
                    b.append("sack");
                    for (int x = i + 2; x + 8 <= i + len; x += 8) {
                        b.append(' ').append(u32(options, x)).append(':').append(u32(options, x + 4));
                    }
                }
                case TcpOption.KIND_TIMESTAMP -> b.append(len == 10
                        ? "TS val " + u32(options, i + 2) + " ecr " + u32(options, i + 6) : "TS ?");
                default -> b.append("kind ").append(kind).append(" len ").append(len);
            }
            i += len;
        }
        return b.toString();
    }

    static int u16(byte[] b, int i) {
        return (b[i] & 0xff) << 8 | (b[i + 1] & 0xff);
    }

    static long u32(byte[] b, int i) {
        return ((long) (b[i] & 0xff) << 24 | (b[i + 1] & 0xff) << 16 | (b[i + 2] & 0xff) << 8 | (b[i + 3] & 0xff))
                & 0xffffffffL;
    }
}
