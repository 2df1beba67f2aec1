package org.modnet.capture;

import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;

/** tcpdump's one-line summaries (its {@code -n} form: numbers, no names). */
final class Printer {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSSSSS").withZone(ZoneId.systemDefault());

    private Printer() {
    }

    static String line(Frame f, Instant when, boolean ethernet) {
        StringBuilder sb = new StringBuilder(TIME.format(when)).append(' ');
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

    private static void ip(StringBuilder sb, Frame f) {
        if (!f.ipv4) {
            sb.append("IP [|ip]");
            return;
        }
        int totLen = f.u16(16);
        int l4 = 14 + f.ihl;
        int payload = totLen - f.ihl;
        sb.append("IP ");
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
                switch (type) {
                    case 8, 0 -> sb.append(type == 8 ? "echo request" : "echo reply").append(", id ").append(f.u16(l4 + 4))
                            .append(", seq ").append(f.u16(l4 + 6)).append(", length ").append(payload);
                    case 3 -> sb.append(Frame.ip(f.daddr)).append(" unreachable, length ").append(payload);
                    case 11 -> sb.append("time exceeded in-transit, length ").append(payload);
                    default -> sb.append("type-#").append(type).append(", length ").append(payload);
                }
            }
            case 17, 6 -> {
                sb.append(Frame.ip(f.saddr)).append('.').append(f.sport).append(" > ").append(Frame.ip(f.daddr)).append('.')
                        .append(f.dport).append(": ");
                if (f.protocol == 17) {
                    sb.append("UDP, length ").append(payload - 8);
                } else {
                    sb.append("tcp ").append(payload);
                }
            }
            default -> sb.append(Frame.ip(f.saddr)).append(" > ").append(Frame.ip(f.daddr)).append(": ip-proto-")
                    .append(f.protocol).append(' ').append(payload);
        }
        if (f.moreFragments) {
            sb.append(" (frag ").append(f.u16(18)).append(':').append(payload).append('@').append(f.fragOffset).append("+)");
        }
    }
}
