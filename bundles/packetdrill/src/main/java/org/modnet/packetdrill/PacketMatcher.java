package org.modnet.packetdrill;

import java.io.ByteArrayOutputStream;

import org.modnet.api.inet.Ipv4Addresses;

/**
 * Packet lines against the stack (packetdrill's {@code run_packet.c}): builds a {@code <} packet in the
 * live numbers of the socket under test and injects it on {@code tun0}; takes the stack's next segment
 * of that socket for a {@code >} line (aggregating segments unless {@code --strict_segments}), maps it
 * back into the script's numbers and checks it field by field, with packetdrill's messages.
 */
final class PacketMatcher {
    private final Config config;
    private final Testbed bed;
    private final SyscallExecutor sockets;
    private final int local;
    private final int remote;
    private int ipId;

    PacketMatcher(Config config, Testbed bed, SyscallExecutor sockets) {
        this.config = config;
        this.bed = bed;
        this.sockets = sockets;
        this.local = (int) Ipv4Addresses.parse(config.localIp());
        this.remote = (int) Ipv4Addresses.parse(config.remoteIp());
    }

    // --- inbound ---

    void inject(int line, TcpPacket p) throws ScriptFailure {
        if (!p.encapsulation().isEmpty()) {
            throw ScriptFailure.skip(line, "encapsulated packets are not supported");
        }
        Conn c = sockets.connForInbound(p);
        if (c == null) {
            throw new ScriptFailure(line, "error handling packet: no socket under test for inbound packet");
        }
        // the connection's first inbound SYN fixes the remote ISN, as packetdrill's socket does when it is
        // made; a later SYN on it (a new connection on a TIME-WAIT 4-tuple, a SYN to challenge) is numbered
        // in the same space, so a script writes its sequence number as it writes any other
        long seq;
        if (p.flags().syn() && !c.remoteIsnKnown) {
            seq = p.startSeq();
            c.remoteIsn = seq;
            c.remoteIsnKnown = true;
        } else {
            seq = c.remoteIsn + p.startSeq();
        }
        long ack = p.flags().ack() ? c.localIsn + p.ack() : p.ack();
        ByteArrayOutputStream opts = new ByteArrayOutputStream();
        for (TcpOption o : p.options()) {
            encode(line, o, opts, c, true);
        }
        byte[] options = opts.toByteArray();
        if (options.length % 4 != 0 || options.length > 40) {
            throw new ScriptFailure(line, "TCP options too long or not a multiple of 4 bytes");
        }
        int tcpLen = 20 + options.length + p.payloadLength();
        int total = 20 + tcpLen;
        byte[] ip = new byte[total];
        ip[0] = 0x45;
        int tos = switch (p.ip().check()) {
            case ECN -> p.ip().ecn().bits < 0 ? 0 : p.ip().ecn().bits;
            case TOS -> p.ip().tos();
            case NONE -> 0;
        };
        ip[1] = (byte) tos;
        put16(ip, 2, total);
        put16(ip, 4, ipId++);
        put16(ip, 6, 0x4000); // DF
        ip[8] = (byte) (p.ip().ttl() != 0 ? p.ip().ttl() : 64);
        ip[9] = 6;
        put32(ip, 12, remote);
        put32(ip, 16, local);
        put16(ip, 10, checksum(ip, 0, 20, 0));
        int th = 20;
        put16(ip, th, c.remotePort);
        put16(ip, th + 2, c.localPort);
        put32(ip, th + 4, (int) seq);
        put32(ip, th + 8, (int) ack);
        TcpFlags f = p.flags();
        int flags = (f.fin() ? LivePacket.FIN : 0) | (f.syn() ? LivePacket.SYN : 0) | (f.rst() ? LivePacket.RST : 0)
                | (f.psh() ? LivePacket.PSH : 0) | (f.ack() ? LivePacket.ACK : 0) | (f.urg() ? LivePacket.URG : 0)
                | (f.ece() ? LivePacket.ECE : 0) | (f.cwr() ? LivePacket.CWR : 0);
        ip[th + 12] = (byte) (((20 + options.length) / 4) << 4 | (f.ae() ? 1 : 0));
        ip[th + 13] = (byte) flags;
        put16(ip, th + 14, Math.max(0, p.window()));
        put16(ip, th + 18, p.urgentPointer());
        System.arraycopy(options, 0, ip, th + 20, options.length);
        long pseudo = ((remote >>> 16) & 0xffff) + (remote & 0xffff) + ((local >>> 16) & 0xffff) + (local & 0xffff) + 6
                + tcpLen;
        put16(ip, th + 16, checksum(ip, th, tcpLen, pseudo));
        if (!bed.device().inject(ip)) {
            throw new ScriptFailure(line, "error handling packet: tun0 refused the inbound packet (device down or ring full)");
        }
    }

    /**
     * An inbound ICMP error ({@code < icmp unreachable frag_needed mtu 1200 [1:1461(1460)]}), as
     * packetdrill's {@code new_icmp_packet} makes it: from the remote address, quoting the IPv4 header and
     * the first 8 bytes of a TCP segment the socket under test sent, its sequence number in the live
     * numbers of our side. Only ICMPv4 "destination unreachable" and "time exceeded" about TCP.
     */
    void injectIcmp(int line, IcmpPacket p) throws ScriptFailure {
        if (!p.encapsulation().isEmpty() || p.echoed().protocol() != IcmpPacket.Protocol.TCP) {
            throw ScriptFailure.skip(line, "only ICMP errors about TCP are supported");
        }
        int type;
        int code;
        switch (p.type()) {
            case "unreachable" -> {
                type = 3;
                code = p.code() == null ? 0 : switch (p.code()) {
                    case "net_unreachable" -> 0;
                    case "host_unreachable" -> 1;
                    case "protocol_unreachable" -> 2;
                    case "port_unreachable" -> 3;
                    case "frag_needed" -> 4;
                    case "source_route_failed" -> 5;
                    case "net_unknown" -> 6;
                    case "host_unknown" -> 7;
                    case "source_host_isolated" -> 8;
                    case "net_prohibited" -> 9;
                    case "host_prohibited" -> 10;
                    case "net_unreachable_for_tos" -> 11;
                    case "host_unreachable_for_tos" -> 12;
                    case "packet_filtered" -> 13;
                    case "precedence_violation" -> 14;
                    case "precedence_cutoff" -> 15;
                    default -> -1;
                };
            }
            case "time_exceeded" -> {
                type = 11;
                code = p.code() == null || p.code().equals("ttl_exceeded") ? 0 : p.code().equals("fragment_reassembly_time_exceeded") ? 1 : -1;
            }
            default -> {
                type = -1;
                code = -1;
            }
        }
        if (type < 0 || code < 0) {
            throw new ScriptFailure(line, "unknown ICMP type/code: " + p.type() + " " + p.code());
        }
        PacketMatcher.Conn c = sockets.sut();
        if (c == null) {
            throw new ScriptFailure(line, "error handling packet: no socket under test for inbound packet");
        }
        int total = 20 + 8 + 20 + 8;
        byte[] ip = new byte[total];
        ip[0] = 0x45;
        put16(ip, 2, total);
        put16(ip, 4, ipId++);
        ip[8] = 64;
        ip[9] = 1;
        put32(ip, 12, remote);
        put32(ip, 16, local);
        put16(ip, 10, checksum(ip, 0, 20, 0));
        int i = 20;
        ip[i] = (byte) type;
        ip[i + 1] = (byte) code;
        if (type == 3 && code == 4) {
            put16(ip, i + 6, Math.max(p.mtu(), 0)); // next-hop MTU, RFC 1191
        }
        int q = i + 8; // the quoted segment, ours: local to remote, DF, as it left
        ip[q] = 0x45;
        put16(ip, q + 2, 20 + 20 + p.echoed().payloadLength());
        put16(ip, q + 6, 0x4000);
        ip[q + 8] = 64;
        ip[q + 9] = 6;
        put32(ip, q + 12, local);
        put32(ip, q + 16, remote);
        put16(ip, q + 10, checksum(ip, q, 20, 0));
        put16(ip, q + 20, c.localPort);
        put16(ip, q + 22, c.remotePort);
        put32(ip, q + 24, (int) (c.localIsn + p.echoed().startSeq()));
        put16(ip, i + 2, checksum(ip, i, total - 20, 0));
        if (!bed.device().inject(ip)) {
            throw new ScriptFailure(line, "error handling packet: tun0 refused the inbound packet (device down or ring full)");
        }
    }

    /** One option's bytes; inbound ones have their TS ecr and SACK blocks mapped into live numbers. */
    private void encode(int line, TcpOption o, ByteArrayOutputStream out, Conn c, boolean inbound) throws ScriptFailure {
        switch (o) {
            case TcpOption.Nop n -> out.write(1);
            case TcpOption.Eol n -> out.write(0);
            case TcpOption.Mss m -> out.writeBytes(new byte[] { 2, 4, (byte) (m.mss() >>> 8), (byte) m.mss() });
            case TcpOption.WindowScale w -> out.writeBytes(new byte[] { 3, 3, (byte) w.shift() });
            case TcpOption.SackPermitted s -> out.writeBytes(new byte[] { 4, 2 });
            case TcpOption.Sack s -> {
                out.write(5);
                out.write(2 + 8 * s.blocks().size());
                for (TcpOption.Sack.Block b : s.blocks()) {
                    write32(out, inbound ? c.localIsn + b.left() : c.remoteIsn + b.left());
                    write32(out, inbound ? c.localIsn + b.right() : c.remoteIsn + b.right());
                }
            }
            case TcpOption.Timestamp t -> {
                out.write(8);
                out.write(10);
                write32(out, t.val());
                long ecr = t.ecr();
                if (inbound && ecr != 0 && !config.tcpTsEcrScaled()) {
                    Long liveVal = c.tsVal.get(ecr);
                    if (liveVal == null) {
                        throw new ScriptFailure(line, "error handling packet: unable to infer live TS val for script TS ecr "
                                + ecr + ": no outbound TS val " + ecr + " was seen");
                    }
                    ecr = liveVal;
                }
                write32(out, ecr);
            }
            default -> throw ScriptFailure.skip(line, "TCP option '" + o + "' is not supported by the runner");
        }
    }

    // --- outbound ---

    /** Waits for the socket's next segment (until {@code deadlineUsecs}) and checks it against {@code p}. */
    LivePacket expect(int line, TcpPacket p, Interpreter in, long deadlineUsecs) throws ScriptFailure {
        Conn c = sockets.sut();
        LivePacket live = next(line, c, in, deadlineUsecs);
        if (p.flags().syn()) {
            // the first SYN or SYN-ACK tells the stack's ISN: script seq START stands for it
            c.localIsn = live.seq() - p.startSeq() & 0xffffffffL;
            c.localIsnKnown = true;
            if (c.localPort < 0) {
                c.localPort = live.sport();
            }
        }
        if (c.localPort < 0) {
            c.localPort = live.sport();
        }
        if (c.remotePort < 0) {
            c.remotePort = live.dport();
        }
        // aggregation (do_outbound_script_packet): consecutive segments make up one script line
        if (!config.strictSegments() && live.payloadLength() > 0 && live.payloadLength() < p.payloadLength()) {
            live = aggregate(line, p, live, c, in, deadlineUsecs);
        }
        verify(line, p, live, c);
        return live;
    }

    private LivePacket next(int line, Conn c, Interpreter in, long deadlineUsecs) throws ScriptFailure {
        while (true) {
            LivePacket live;
            while ((live = bed.device().poll()) != null) {
                if (ours(live, c)) {
                    return live;
                }
            }
            if (in.nowUsecs() >= deadlineUsecs) {
                throw new ScriptFailure(line, "error handling packet: Timed out waiting for packet");
            }
            in.step();
        }
    }

    private boolean ours(LivePacket p, Conn c) {
        if (p.saddr() != local || p.daddr() != remote) {
            return false;
        }
        if (c == null) {
            return true;
        }
        return (c.localPort < 0 || p.sport() == c.localPort) && (c.remotePort < 0 || p.dport() == c.remotePort);
    }

    private LivePacket aggregate(int line, TcpPacket p, LivePacket first, Conn c, Interpreter in, long deadlineUsecs)
            throws ScriptFailure {
        LivePacket last = first;
        int sum = first.payloadLength();
        while (sum < p.payloadLength()) {
            LivePacket more = next(line, c, in, deadlineUsecs);
            if (more.seq() != (last.seq() + last.payloadLength() & 0xffffffffL) || more.payloadLength() == 0) {
                bed.device().pushBack(more);
                break;
            }
            sum += more.payloadLength();
            last = more;
        }
        return new LivePacket(last.nanos(), last.saddr(), last.daddr(), last.tos(), last.ttl(), last.ipHeaderLength(),
                last.ipHeaderLength() + last.dataOffset() + sum, last.sport(), last.dport(), first.seq(), last.ack(),
                last.dataOffset(), last.flags() & ~LivePacket.CWR | first.flags() & LivePacket.CWR, last.window(),
                last.urgentPointer(), last.options(), sum);
    }

    private void verify(int line, TcpPacket p, LivePacket live, Conn c) throws ScriptFailure {
        String prefix = "error handling packet: ";
        TcpFlags f = p.flags();
        if (p.ip().ttl() != 0) {
            field(line, "ipv4_ttl", p.ip().ttl(), live.ttl());
        }
        if (p.ip().check() == IpInfo.TosCheck.TOS) {
            field(line, "ipv4_tos", p.ip().tos(), live.tos());
        } else if (p.ip().check() == IpInfo.TosCheck.ECN) {
            int ecn = live.tos() & 3;
            if (p.ip().ecn() == IpInfo.Ecn.ECT01 ? ecn != 1 && ecn != 2 : ecn != p.ip().ecn().bits) {
                field(line, "ipv4_ecn", p.ip().ecn().bits, ecn);
            }
        }
        int optionBytes = p.optionsUnchecked() ? live.dataOffset() - 20 : p.optionBytes();
        if (live.payloadLength() != p.payloadLength() && 20 + optionBytes == live.dataOffset()) {
            throw new ScriptFailure(line, prefix + "live packet payload: expected " + p.payloadLength()
                    + " bytes vs actual " + live.payloadLength() + " bytes");
        }
        field(line, "ipv4_total_length", 20 + 20 + optionBytes + p.payloadLength(), live.totalLength());
        if (!p.optionsUnchecked()) {
            field(line, "tcp_data_offset", (20 + optionBytes) / 4, live.dataOffset() / 4);
        }
        field(line, "tcp_fin", f.fin() ? 1 : 0, live.has(LivePacket.FIN) ? 1 : 0);
        field(line, "tcp_syn", f.syn() ? 1 : 0, live.has(LivePacket.SYN) ? 1 : 0);
        field(line, "tcp_rst", f.rst() ? 1 : 0, live.has(LivePacket.RST) ? 1 : 0);
        field(line, "tcp_psh", f.psh() ? 1 : 0, live.has(LivePacket.PSH) ? 1 : 0);
        field(line, "tcp_ack", f.ack() ? 1 : 0, live.has(LivePacket.ACK) ? 1 : 0);
        field(line, "tcp_urg", f.urg() ? 1 : 0, live.has(LivePacket.URG) ? 1 : 0);
        field(line, "tcp_ece", f.ece() ? 1 : 0, live.has(LivePacket.ECE) ? 1 : 0);
        field(line, "tcp_cwr", f.cwr() ? 1 : 0, live.has(LivePacket.CWR) ? 1 : 0);
        field(line, "tcp_ae", f.ae() ? 1 : 0, live.has(LivePacket.AE) ? 1 : 0);
        field(line, "tcp_seq", p.startSeq() & 0xffffffffL, live.seq() - c.localIsn & 0xffffffffL);
        long ack = live.has(LivePacket.ACK) ? live.ack() - c.remoteIsn & 0xffffffffL : live.ack();
        field(line, "tcp_ack_seq", p.ack() & 0xffffffffL, ack);
        if (p.window() >= 0) {
            field(line, "tcp_window", p.window(), live.window());
        }
        field(line, "tcp_urg_ptr", p.urgentPointer(), live.urgentPointer());
        if (!p.optionsUnchecked()) {
            verifyOptions(line, p, live, c);
        }
        recordTimestamps(p, live, c);
    }

    private void verifyOptions(int line, TcpPacket p, LivePacket live, Conn c) throws ScriptFailure {
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        for (TcpOption o : p.options()) {
            if (o instanceof TcpOption.Timestamp) {
                // TS val is checked apart (--tcp_ts_tick_usecs); ecr never: take the live bytes
                int at = findTimestamp(live.options());
                if (at < 0) {
                    expected.writeBytes(new byte[] { 8, 10, 0, 0, 0, 0, 0, 0, 0, 0 });
                } else {
                    expected.write(live.options(), at, 10);
                }
            } else if (o instanceof TcpOption.WindowScale w && w.any()) {
                int at = find(live.options(), TcpOption.KIND_WSCALE);
                expected.writeBytes(new byte[] { 3, 3, at < 0 ? 0 : live.options()[at + 2] });
            } else {
                encode(line, o, expected, c, false);
            }
        }
        if (!java.util.Arrays.equals(expected.toByteArray(), live.options())) {
            throw new ScriptFailure(line, "error handling packet: bad outbound TCP options: expected <"
                    + scriptOptions(p) + "> vs actual <" + liveOptions(live, c) + ">");
        }
        if (config.tcpTsTickUsecs() > 0) {
            for (TcpOption o : p.options()) {
                if (o instanceof TcpOption.Timestamp t) {
                    checkTsVal(line, t, live, c);
                }
            }
        }
    }

    private void checkTsVal(int line, TcpOption.Timestamp t, LivePacket live, Conn c) throws ScriptFailure {
        int at = findTimestamp(live.options());
        long val = LivePacket.u32(live.options(), at + 2);
        if (!c.tsBaseKnown) {
            c.tsBaseKnown = true;
            c.tsBase = val - t.val();
            return;
        }
        // the first TS val checked fixes the offset; later ones may differ by the tolerance, plus a tick
        // for where the clock's edge falls
        long expect = c.tsBase + t.val() & 0xffffffffL;
        long delta = Math.abs((int) (val - expect));
        long tol = config.toleranceUsecs();
        if (delta * config.tcpTsTickUsecs() > tol + config.tcpTsTickUsecs()) {
            throw new ScriptFailure(line, "error handling packet: bad outbound TCP timestamp value, tsval_delta_usecs "
                    + delta * config.tcpTsTickUsecs() + " > tolerance " + tol);
        }
    }

    private static String scriptOptions(TcpPacket p) {
        StringBuilder b = new StringBuilder();
        for (TcpOption o : p.options()) {
            b.append(b.isEmpty() ? "" : ",").append(o);
        }
        return b.toString();
    }

    /** The live options with SACK blocks back in the script's numbers. */
    private static String liveOptions(LivePacket live, Conn c) {
        String text = live.optionsText();
        if (!text.contains("sack ")) {
            return text;
        }
        StringBuilder b = new StringBuilder();
        for (String part : text.split(",")) {
            if (part.startsWith("sack ")) {
                StringBuilder s = new StringBuilder("sack");
                for (String blk : part.substring(5).split(" ")) {
                    String[] lr = blk.split(":");
                    s.append(' ').append(Long.parseLong(lr[0]) - c.remoteIsn & 0xffffffffL).append(':')
                            .append(Long.parseLong(lr[1]) - c.remoteIsn & 0xffffffffL);
                }
                part = s.toString();
            }
            b.append(b.isEmpty() ? "" : ",").append(part);
        }
        return b.toString();
    }

    private void recordTimestamps(TcpPacket p, LivePacket live, Conn c) {
        if (p.optionsUnchecked()) {
            int at = findTimestamp(live.options());
            if (at >= 0) {
                c.lastLiveTsVal = LivePacket.u32(live.options(), at + 2);
            }
            return;
        }
        for (TcpOption o : p.options()) {
            if (o instanceof TcpOption.Timestamp t) {
                int at = findTimestamp(live.options());
                if (at >= 0) {
                    c.tsVal.put(t.val(), LivePacket.u32(live.options(), at + 2));
                }
            }
        }
    }

    private static int findTimestamp(byte[] options) {
        return find(options, TcpOption.KIND_TIMESTAMP);
    }

    private static int find(byte[] options, int kind) {
        int i = 0;
        while (i < options.length) {
            int k = options[i] & 0xff;
            if (k == kind) {
                return i;
            }
            if (k <= 1) {
                i++;
                continue;
            }
            if (i + 1 >= options.length || (options[i + 1] & 0xff) < 2) {
                return -1;
            }
            i += options[i + 1] & 0xff;
        }
        return -1;
    }

    /** packetdrill's {@code check_field}. */
    private static void field(int line, String name, long expected, long actual) throws ScriptFailure {
        if (expected != actual) {
            throw new ScriptFailure(line, String.format(
                    "error handling packet: live packet field %s: expected: %d (0x%x) vs actual: %d (0x%x)", name,
                    expected, expected, actual, actual));
        }
    }

    /** Nothing is checked at the end: packets never matched by a line are no error (as in packetdrill). */
    void finish() {
    }

    // --- bytes ---

    private static void put16(byte[] b, int i, int v) {
        b[i] = (byte) (v >>> 8);
        b[i + 1] = (byte) v;
    }

    private static void put32(byte[] b, int i, int v) {
        put16(b, i, v >>> 16);
        put16(b, i + 2, v);
    }

    private static void write32(ByteArrayOutputStream out, long v) {
        out.write((int) (v >>> 24));
        out.write((int) (v >>> 16));
        out.write((int) (v >>> 8));
        out.write((int) v);
    }

    /** The Internet checksum of {@code len} bytes from {@code off}, with a starting sum (RFC 1071). */
    static int checksum(byte[] b, int off, int len, long sum) {
        for (int i = 0; i + 1 < len; i += 2) {
            sum += (b[off + i] & 0xff) << 8 | (b[off + i + 1] & 0xff);
        }
        if ((len & 1) != 0) {
            sum += (b[off + len - 1] & 0xff) << 8;
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        return (int) (~sum & 0xffff);
    }

    /** The connection a packet line refers to (packetdrill's {@code struct socket}, one per socket under test). */
    static final class Conn {
        int localPort = -1;
        int remotePort = -1;
        boolean listening;
        long remoteIsn;
        boolean remoteIsnKnown;
        long localIsn;
        boolean localIsnKnown;
        long lastLiveTsVal;
        boolean tsBaseKnown;
        long tsBase;
        /** Script TS val to the live TS val sent with it, for mapping inbound TS ecr. */
        final java.util.Map<Long, Long> tsVal = new java.util.HashMap<>();
    }
}
