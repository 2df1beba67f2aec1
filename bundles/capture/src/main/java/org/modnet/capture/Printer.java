package org.modnet.capture;

import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;

/**
 * tcpdump's one-line summaries (its {@code -n} form: numbers, no names); {@code -v} adds the IPv4
 * header block and TCP's checksum. One printer lives as long as a capture: it remembers TCP
 * conversations' initial sequence numbers, as tcpdump does, to print them relative.
 */
final class Printer {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSSSSS").withZone(ZoneId.systemDefault());
    private static final DateTimeFormatter DATE_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSSSS")
            .withZone(ZoneId.systemDefault());

    private final boolean ethernet;
    private final int verbosity;
    private final TcpPrinter tcp;
    /** tcpdump's {@code -t} count: 0 the time of day, 1 none, 2 epoch seconds, 3 since the last, 4 date and time, 5 since the first. */
    private int stamps;
    private Instant first;
    private Instant last;
    private boolean truncated;

    /**
     * @param verbosity the number of {@code -v}s
     * @param absolute  {@code -S}: absolute TCP sequence numbers
     * @param quick     {@code -q}: {@code tcp N} for TCP
     */
    Printer(boolean ethernet, int verbosity, boolean absolute, boolean quick, int maxFlows) {
        this.ethernet = ethernet;
        this.verbosity = verbosity;
        this.tcp = new TcpPrinter(absolute, quick, verbosity, maxFlows);
    }

    Printer(boolean ethernet) {
        this(ethernet, 0, false, false, TcpPrinter.DEFAULT_MAX_FLOWS);
    }

    /** tcpdump's {@code -t}, {@code -tt}, {@code -ttt}, {@code -tttt}, {@code -ttttt}: how each line's time is printed. */
    Printer stamps(int t) {
        stamps = t;
        return this;
    }

    /** The line's time as the {@code -t} count says, with its separating space (none for {@code -t}). */
    private String stamp(Instant when) {
        Instant prev = last;
        if (first == null) {
            first = when;
        }
        last = when;
        return switch (stamps) {
            case 0 -> TIME.format(when) + " ";
            case 1 -> "";
            case 2 -> String.format(java.util.Locale.ROOT, "%d.%06d ", when.getEpochSecond(), when.getNano() / 1000);
            case 3 -> delta(prev == null ? when : prev, when);
            case 4 -> DATE_TIME.format(when) + " ";
            default -> delta(first, when);
        };
    }

    /** A span as tcpdump prints {@code -ttt}/{@code -ttttt}: {@code 00:00:00.000123}. */
    private static String delta(Instant from, Instant to) {
        long us = Math.max(0, java.time.Duration.between(from, to).toNanos() / 1000);
        long s = us / 1_000_000;
        return String.format(java.util.Locale.ROOT, "%02d:%02d:%02d.%06d ", s / 3600, s / 60 % 60, s % 60, us % 1_000_000);
    }

    TcpPrinter tcp() {
        return tcp;
    }

    /** The single-shot form: a fresh printer, so TCP numbers print absolute. */
    static String line(Frame f, Instant when, boolean ethernet) {
        return new Printer(ethernet).line(f, when);
    }

    /**
     * Whether the last {@link #line} stopped short at a truncated header ({@code [|icmp]}): tcpdump's
     * {@code -X} then dumps the frame from its link header, as its printer's hex dump after a truncation does.
     */
    boolean truncated() {
        return truncated;
    }

    String line(Frame f, Instant when) {
        truncated = false;
        StringBuilder sb = new StringBuilder(stamp(when));
        if (ethernet && f.b.length >= 14) {
            sb.append(f.mac(6)).append(" > ").append(f.mac(0)).append(", ethertype ").append(typeName(f.ethertype))
                    .append(String.format(" (0x%04x)", f.ethertype)).append(", length ").append(f.b.length).append(": ");
        }
        if (f.b.length < 14) {
            return sb.append("[|ether]").toString();
        }
        switch (f.ethertype) {
            case 0x0806 -> arp(sb, f);
            case 0x0800 -> ip(sb, f);
            default -> {
                if (!ethernet) {
                    sb.append(f.mac(6)).append(" > ").append(f.mac(0)).append(", ethertype ").append(typeName(f.ethertype))
                            .append(String.format(" (0x%04x)", f.ethertype)).append(", length ").append(f.b.length);
                }
            }
        }
        return sb.toString();
    }

    /**
     * {@code -X} ({@code link} false: from the network header) and {@code -XX} (the whole frame): the
     * bytes as tcpdump's hex_and_ascii_print shows them, 16 a line, each line {@code "\n\t0x0010:  "},
     * eight groups of four hex digits, then the printable ones as ASCII and the rest as dots.
     */
    static String hex(byte[] b, boolean link) {
        int from = link ? 0 : Math.min(14, b.length);
        StringBuilder sb = new StringBuilder();
        for (int at = from; at < b.length; at += 16) {
            int end = Math.min(at + 16, b.length);
            StringBuilder hex = new StringBuilder();
            StringBuilder ascii = new StringBuilder();
            for (int i = at; i < end; i++) {
                if ((i - at) % 2 == 0) {
                    hex.append(' ');
                }
                hex.append(String.format("%02x", b[i] & 0xff));
                int c = b[i] & 0xff;
                ascii.append(c > 0x20 && c < 0x7f ? (char) c : '.'); // as ND_ASCII_ISGRAPH: a space is a dot too
            }
            sb.append("\n\t").append(String.format("0x%04x: ", at - from)).append(String.format("%-40s", hex)).append("  ").append(ascii);
        }
        return sb.toString();
    }

    /**
     * {@code -i any}: after the time, the device and the direction as tcpdump prints a Linux cooked
     * (SLL2) header: {@code "eth0  Out "}, {@code "lo    In  "}, {@code "veth1 B   "}.
     */
    static String withDevice(String line, String dev, org.modnet.api.skb.PktType type) {
        String dir = switch (type) {
            case HOST -> "In";
            case BROADCAST -> "B";
            case MULTICAST -> "M";
            case OTHERHOST -> "P";
            case OUTGOING -> "Out";
            case LOOPBACK -> "?"; // tcpdump names only PACKET_HOST..PACKET_OUTGOING; nothing here marks a frame LOOPBACK
        };
        int sp = line.indexOf(' ');
        return line.substring(0, sp + 1) + String.format("%-5s %-3s ", dev, dir) + line.substring(sp + 1);
    }

    /** The quoted datagram's destination, as tcpdump names an ICMP error's subject; {@code [|icmp]} when cut short. */
    private static String quotedDst(Frame f, int l4) {
        return f.b.length >= l4 + 8 + 20 ? Frame.ip(f.u32(l4 + 8 + 16)) : "[|icmp]";
    }

    /** A destination unreachable as tcpdump's {@code icmp_print} words it, by code, about the datagram it quotes. */
    private static StringBuilder unreachable(StringBuilder sb, Frame f, int l4) {
        String dst = quotedDst(f, l4);
        int code = f.u8(l4 + 1);
        int q = l4 + 8;
        int qihl = f.b.length > q ? (f.u8(q) & 0x0f) * 4 : 0;
        int proto = f.b.length > q + 9 ? f.u8(q + 9) : -1;
        return switch (code) {
            case 0 -> sb.append("net ").append(dst).append(" unreachable");
            case 1 -> sb.append("host ").append(dst).append(" unreachable");
            case 2 -> sb.append(dst).append(" protocol ").append(proto).append(" unreachable");
            case 3 -> {
                if (f.b.length < q + qihl + 4 || qihl < 20) {
                    yield sb.append(dst).append(" port [|icmp] unreachable");
                }
                int port = f.u16(q + qihl + 2);
                yield proto == 6 || proto == 17
                        ? sb.append(dst).append(proto == 6 ? " tcp port " : " udp port ").append(port).append(" unreachable")
                        : sb.append(dst).append(" protocol ").append(proto).append(" port ").append(port).append(" unreachable");
            }
            case 4 -> {
                int mtu = f.u16(l4 + 6);
                yield sb.append(dst).append(" unreachable - need to frag").append(mtu != 0 ? " (mtu " + mtu + ")" : "");
            }
            case 5 -> sb.append(dst).append(" unreachable - source route failed");
            case 6 -> sb.append("net ").append(dst).append(" unreachable - unknown");
            case 7 -> sb.append("host ").append(dst).append(" unreachable - unknown");
            case 8 -> sb.append(dst).append(" unreachable - source host isolated");
            case 9 -> sb.append("net ").append(dst).append(" unreachable - admin prohibited");
            case 10 -> sb.append("host ").append(dst).append(" unreachable - admin prohibited");
            case 11 -> sb.append("net ").append(dst).append(" unreachable - tos prohibited");
            case 12 -> sb.append("host ").append(dst).append(" unreachable - tos prohibited");
            case 13 -> sb.append("host ").append(dst).append(" unreachable - admin prohibited filter");
            case 14 -> sb.append("host ").append(dst).append(" unreachable - host precedence violation");
            case 15 -> sb.append("host ").append(dst).append(" unreachable - precedence cutoff");
            default -> sb.append(dst).append(" unreachable - #").append(code);
        };
    }

    /** A redirect as tcpdump words it: the quoted destination and the gateway to use. */
    private static StringBuilder redirect(StringBuilder sb, Frame f, int l4) {
        String gw = Frame.ip(f.u32(l4 + 4));
        String dst = quotedDst(f, l4);
        return switch (f.u8(l4 + 1)) {
            case 0 -> sb.append("redirect ").append(dst).append(" to net ").append(gw);
            case 1 -> sb.append("redirect ").append(dst).append(" to host ").append(gw);
            case 2 -> sb.append("redirect-tos ").append(dst).append(" to net ").append(gw);
            case 3 -> sb.append("redirect-tos ").append(dst).append(" to host ").append(gw);
            default -> sb.append("redirect ").append(dst).append(" to ").append(gw);
        };
    }

    private static String typeName(int type) {
        return switch (type) {
            case 0x0800 -> "IPv4";
            case 0x0806 -> "ARP";
            case 0x86dd -> "IPv6";
            case 0x8100 -> "802.1Q";
            default -> "Unknown";
        };
    }

    private static void arp(StringBuilder sb, Frame f) {
        if (f.b.length < 42) {
            sb.append("ARP, [|arp]");
            return;
        }
        int op = f.u16(20);
        sb.append("ARP, ");
        if (op == 1) {
            sb.append("Request who-has ").append(Frame.ip(f.u32(38))).append(" tell ").append(Frame.ip(f.u32(28)));
        } else if (op == 2) {
            sb.append("Reply ").append(Frame.ip(f.u32(28))).append(" is-at ").append(f.mac(22));
        } else {
            sb.append("Unknown (").append(op).append(')');
        }
        sb.append(", length 28");
    }

    private void ip(StringBuilder sb, Frame f) {
        if (!f.ipv4) {
            sb.append("IP [|ip]");
            return;
        }
        sb.append("IP ");
        ipBody(sb, f);
    }

    /** An IPv4 packet after tcpdump's {@code IP }: the {@code -v} block, then the protocol's line. */
    private void ipBody(StringBuilder sb, Frame f) {
        int totLen = f.u16(16);
        int l4 = 14 + f.ihl;
        int payload = totLen - f.ihl;
        if (verbosity > 0) {
            header(sb, f, totLen);
        }
        if (f.fragOffset != 0) {
            sb.append(Frame.ip(f.saddr)).append(" > ").append(Frame.ip(f.daddr)).append(": ip-proto-").append(f.protocol)
                    .append(' ').append(payload);
            return;
        }
        switch (f.protocol) {
            case 1 -> {
                sb.append(Frame.ip(f.saddr)).append(" > ").append(Frame.ip(f.daddr)).append(": ICMP ");
                if (f.b.length < l4 + 8) {
                    sb.append("[|icmp]");
                    return;
                }
                int type = f.u8(l4);
                if ((type == 3 || type == 5) && f.b.length < l4 + 8 + 20) {
                    // icmp_print words these by the quoted header's destination, which is not all there:
                    // tcpdump gives up on the line before its "ICMP"
                    sb.setLength(sb.length() - "ICMP ".length());
                    sb.append(" [|icmp]");
                    truncated = true;
                    return;
                }
                switch (type) {
                    case 8, 0 -> sb.append(type == 8 ? "echo request" : "echo reply").append(", id ").append(f.u16(l4 + 4))
                            .append(", seq ").append(f.u16(l4 + 6)).append(", length ").append(payload);
                    case 3 -> unreachable(sb, f, l4).append(", length ").append(payload);
                    case 4 -> sb.append("source quench, length ").append(payload);
                    case 5 -> redirect(sb, f, l4).append(", length ").append(payload);
                    case 11 -> sb.append(f.u8(l4 + 1) == 1 ? "ip reassembly time exceeded" : "time exceeded in-transit").append(", length ")
                            .append(payload);
                    case 12 -> sb.append(f.u8(l4 + 1) == 0 ? "parameter problem - octet " + f.u8(l4 + 4) : "parameter problem - code " + f.u8(l4 + 1))
                            .append(", length ").append(payload);
                    default -> sb.append("type-#").append(type).append(", length ").append(payload);
                }
                if (verbosity > 0 && !f.moreFragments && l4 + payload <= f.b.length) {
                    int rest = TcpPrinter.sum(f, l4, payload, -1, 2);
                    int carried = f.u16(l4 + 2);
                    if (TcpPrinter.fold(rest + carried) != 0xffff) {
                        sb.append(" (wrong icmp cksum ").append(Integer.toHexString(carried)).append(" (->")
                                .append(Integer.toHexString(~rest & 0xffff)).append(")!)");
                    }
                }
                if (verbosity > 0 && (type == 3 || type == 4 || type == 5 || type == 11 || type == 12)) {
                    // an error's -v line goes on with the datagram it quotes, printed as a packet of its own
                    sb.append("\n\t");
                    quoted(sb, f, l4 + 8);
                }
            }
            case 17 -> {
                sb.append(Frame.ip(f.saddr)).append('.').append(f.sport).append(" > ").append(Frame.ip(f.daddr)).append('.')
                        .append(f.dport).append(": ");
                if (verbosity > 1 && !f.moreFragments && l4 + 8 <= f.b.length) {
                    // UDP over IPv4 may go without a checksum (0): tcpdump checks it from -vv on
                    int carried = f.u16(l4 + 6);
                    if (carried == 0) {
                        sb.append("[no cksum] ");
                    } else if (l4 + payload <= f.b.length) {
                        int rest = TcpPrinter.sum(f, l4, payload, 17, 6);
                        if (TcpPrinter.fold(rest + carried) == 0xffff) {
                            sb.append("[udp sum ok] ");
                        } else {
                            sb.append("[bad udp cksum 0x").append(TcpPrinter.hex4(carried)).append(" -> 0x")
                                    .append(TcpPrinter.hex4(~rest & 0xffff)).append("!] ");
                        }
                    }
                }
                sb.append("UDP, length ").append(payload - 8);
            }
            case 6 -> tcp.print(sb, f, l4, payload, f.moreFragments);
            default -> sb.append(Frame.ip(f.saddr)).append(" > ").append(Frame.ip(f.daddr)).append(": ip-proto-")
                    .append(f.protocol).append(' ').append(payload);
        }
        if (f.moreFragments && verbosity == 0) {
            sb.append(" (frag ").append(f.u16(18)).append(':').append(payload).append('@').append(f.fragOffset).append("+)");
        }
    }

    /**
     * The datagram an ICMP error quotes from {@code at} on, as tcpdump's icmp_print hands it to ip_print:
     * its header block and its own line, from what the error carries (often less than its length says).
     */
    private void quoted(StringBuilder sb, Frame f, int at) {
        int n = Math.max(0, f.b.length - at);
        byte[] inner = new byte[14 + n];
        inner[12] = 0x08;
        System.arraycopy(f.b, at, inner, 14, n);
        sb.append("IP ");
        Frame q = new Frame(inner);
        if (!q.ipv4) {
            sb.append("[|ip]");
            return;
        }
        ipBody(sb, q);
    }

    /** print-ip.c's {@code -v} block: {@code (tos 0x0, ttl 64, id 1, offset 0, flags [DF], proto TCP (6), length 60)}. */
    private static void header(StringBuilder sb, Frame f, int totLen) {
        int tos = f.u8(15);
        sb.append("(tos 0x").append(Integer.toHexString(tos));
        switch (tos & 3) {
            case 1 -> sb.append(",ECT(1)");
            case 2 -> sb.append(",ECT(0)");
            case 3 -> sb.append(",CE");
            default -> {
            }
        }
        int ttl = f.u8(22);
        if (ttl >= 1) {
            sb.append(", ttl ").append(ttl);
        }
        int frag = f.u16(20);
        sb.append(", id ").append(f.u16(18)).append(", offset ").append(f.fragOffset).append(", flags [");
        if ((frag & 0xe000) == 0) {
            sb.append("none");
        } else {
            String sep = "";
            if ((frag & 0x2000) != 0) {
                sb.append('+');
                sep = ", ";
            }
            if ((frag & 0x4000) != 0) {
                sb.append(sep).append("DF");
                sep = ", ";
            }
            if ((frag & 0x8000) != 0) {
                sb.append(sep).append("rsvd");
            }
        }
        sb.append("], proto ").append(protoName(f.protocol)).append(" (").append(f.protocol).append("), length ").append(totLen);
        if (14 + f.ihl <= f.b.length) {
            long sum = 0;
            for (int i = 0; i < f.ihl; i += 2) {
                if (i != 10) {
                    sum += f.u16(14 + i);
                }
            }
            int rest = TcpPrinter.fold(sum);
            int carried = f.u16(24);
            if (TcpPrinter.fold(rest + carried) != 0xffff) {
                sb.append(", bad cksum ").append(Integer.toHexString(carried)).append(" (->")
                        .append(Integer.toHexString(~rest & 0xffff)).append(")!");
            }
        }
        sb.append(")\n    ");
    }

    private static String protoName(int p) {
        return switch (p) {
            case 1 -> "ICMP";
            case 2 -> "IGMP";
            case 4 -> "IPIP";
            case 6 -> "TCP";
            case 17 -> "UDP";
            case 41 -> "IPv6";
            case 47 -> "GRE";
            case 50 -> "ESP";
            case 51 -> "AH";
            case 58 -> "ICMPv6";
            case 89 -> "OSPF";
            case 103 -> "PIM";
            case 112 -> "VRRP";
            case 132 -> "SCTP";
            default -> "unknown";
        };
    }
}
