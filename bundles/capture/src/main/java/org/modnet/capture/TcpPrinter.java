package org.modnet.capture;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * tcpdump's TCP summary (print-tcp.c's tcp_print, in its {@code -n} form):
 * {@code Flags [S.], seq 2000000, ack 1000001, win 65160, options [mss 1460,sackOK,TS val 1 ecr 2,nop,wscale 7], length 0}.
 * <p>
 * Sequence numbers are relative as tcpdump's are by default: a conversation's initial numbers are
 * recorded from the first segment carrying ACK that tcpdump sees of it (or from any SYN|ACK), that
 * segment prints absolute numbers, and later segments of either direction print the difference.
 * tcpdump keeps conversations forever; here the table holds at most {@code maxFlows} and forgets the
 * least recently seen one when full, counted in {@link #flowsEvicted()}.
 */
final class TcpPrinter {
    static final int TH_FIN = 0x01;
    static final int TH_SYN = 0x02;
    static final int TH_RST = 0x04;
    static final int TH_PUSH = 0x08;
    static final int TH_ACK = 0x10;
    static final int TH_URG = 0x20;
    static final int TH_ECE = 0x40;
    static final int TH_CWR = 0x80;
    static final int DEFAULT_MAX_FLOWS = 4096;

    /** Flag letters in bit order, which is the order tcpdump prints them in: FIN SYN RST PSH ACK URG ECE CWR. */
    private static final String FLAG_LETTERS = "FSRP.UEW";
    private static final int TH_HDR = 20;

    /** A conversation, oriented as tcpdump orients it (the lower port, or address on a tie, is the source). */
    private record Conversation(int src, int dst, int ports) {
    }

    /** The initial numbers of the oriented source's sequence space ({@code seq}) and of its peer's ({@code ack}). */
    private static final class Isn {
        int seq;
        int ack;
    }

    private final boolean absolute;
    private final boolean quick;
    private final int verbosity;
    private final int maxFlows;
    private final LinkedHashMap<Conversation, Isn> flows;
    private long evicted;

    TcpPrinter(boolean absolute, boolean quick, int verbosity, int maxFlows) {
        this.absolute = absolute;
        this.quick = quick;
        this.verbosity = verbosity;
        this.maxFlows = maxFlows;
        this.flows = new LinkedHashMap<>(16, 0.75f, true) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<Conversation, Isn> eldest) {
                if (size() > TcpPrinter.this.maxFlows) {
                    evicted++;
                    return true;
                }
                return false;
            }
        };
    }

    /** Conversations whose initial sequence numbers were forgotten because the table was full. */
    long flowsEvicted() {
        return evicted;
    }

    int flows() {
        return flows.size();
    }

    /**
     * Appends the summary of the segment at {@code th}; {@code length} is the IP payload length (the
     * segment as IP carries it, which may exceed what was captured).
     */
    void print(StringBuilder sb, Frame f, int th, int length, boolean fragmented) {
        int end = f.b.length;
        String src = Frame.ip(f.saddr);
        String dst = Frame.ip(f.daddr);
        if (end < th + 4) {
            sb.append(src).append(" > ").append(dst).append(": [|tcp]");
            return;
        }
        int sport = f.u16(th);
        int dport = f.u16(th + 2);
        sb.append(src).append('.').append(sport).append(" > ").append(dst).append('.').append(dport).append(": ");
        if (end < th + TH_HDR) {
            sb.append(" [|tcp]");
            return;
        }
        int hlen = (f.u8(th + 12) >>> 4) * 4;
        if (hlen < TH_HDR) {
            sb.append(" tcp ").append(Integer.toUnsignedString(length - hlen)).append(" [bad hdr length ").append(hlen)
                    .append(" - too short, < 20]");
            return;
        }
        int seq = f.u32(th + 4);
        int ack = f.u32(th + 8);
        int win = f.u16(th + 14);
        int urp = f.u16(th + 18);
        if (quick) {
            sb.append("tcp ").append(Integer.toUnsignedString(length - hlen));
            if (hlen > length) {
                sb.append(" [bad hdr length ").append(hlen).append(" - too long, > ").append(length).append(']');
            }
            return;
        }
        int flags = f.u8(th + 13);
        sb.append("Flags [");
        if (flags == 0) {
            sb.append("none");
        }
        for (int bit = 0; bit < 8; bit++) {
            if ((flags & (1 << bit)) != 0) {
                sb.append(FLAG_LETTERS.charAt(bit));
            }
        }
        sb.append(']');

        boolean rev = false;
        int thseq = 0;
        int thack = 0;
        if (!absolute && (flags & TH_ACK) != 0) {
            rev = sport > dport || (sport == dport && Integer.compareUnsigned(f.saddr, f.daddr) > 0);
            Conversation key = rev ? new Conversation(f.daddr, f.saddr, dport << 16 | sport)
                    : new Conversation(f.saddr, f.daddr, sport << 16 | dport);
            Isn isn = flows.get(key);
            if (isn == null || (flags & TH_SYN) != 0) {
                // first sight of the conversation, or a new one on the same ports: record, print absolute
                if (isn == null) {
                    isn = new Isn();
                    flows.put(key, isn);
                }
                if (rev) {
                    isn.ack = seq;
                    isn.seq = ack - 1;
                } else {
                    isn.seq = seq;
                    isn.ack = ack - 1;
                }
            } else if (rev) {
                seq -= isn.ack;
                ack -= isn.seq;
            } else {
                seq -= isn.seq;
                ack -= isn.ack;
            }
            thseq = isn.seq;
            thack = isn.ack;
        }
        if (hlen > length) {
            sb.append(" [bad hdr length ").append(hlen).append(" - too long, > ").append(length).append(']');
            return;
        }
        if (verbosity > 0 && !fragmented && end >= th + length) {
            int sum = f.u16(th + 16);
            int rest = sumWithoutField(f, th, length);
            sb.append(", cksum 0x").append(hex4(sum));
            if (fold(rest + sum) == 0xffff) {
                sb.append(" (correct)");
            } else {
                sb.append(" (incorrect -> 0x").append(hex4(~rest & 0xffff)).append(')');
            }
        }
        int payload = length - hlen;
        if (verbosity > 1 || payload > 0 || (flags & (TH_SYN | TH_FIN | TH_RST)) != 0) {
            sb.append(", seq ").append(Integer.toUnsignedString(seq));
            if (payload > 0) {
                sb.append(':').append(Integer.toUnsignedString(seq + payload));
            }
        }
        if ((flags & TH_ACK) != 0) {
            sb.append(", ack ").append(Integer.toUnsignedString(ack));
        }
        sb.append(", win ").append(win);
        if ((flags & TH_URG) != 0) {
            sb.append(", urg ").append(urp);
        }
        if (hlen > TH_HDR && !options(sb, f, th + TH_HDR, hlen - TH_HDR, rev ? thseq : thack)) {
            return;
        }
        sb.append(", length ").append(payload);
        if ((flags & TH_RST) != 0 && verbosity > 0 && payload > 0) {
            resetData(sb, f, th + hlen, payload);
        }
    }

    /** RFC 1122 4.2.2.12 lets a reset carry text saying why; {@code -v} shows its first 30 bytes, as tcpdump does. */
    private static void resetData(StringBuilder sb, Frame f, int at, int length) {
        sb.append(" [RST");
        if (length > 30) {
            length = 30;
            sb.append('+');
        }
        sb.append(' ');
        for (int i = at; i < at + length; i++) {
            if (i >= f.b.length) {
                sb.append(" [|tcp]");
                return;
            }
            int c = f.u8(i);
            if (c >= 0x80) {
                sb.append("M-");
                c &= 0x7f;
            }
            if (c < 0x20 || c == 0x7f) {
                sb.append('^').append((char) (c ^ 0x40));
            } else {
                sb.append((char) c);
            }
        }
        sb.append(']');
    }

    /**
     * The options in tcpdump's words; false when they ended the line ({@code [bad opt]} or a
     * truncated capture), as tcpdump then prints no length. {@code sackBase} makes SACK blocks
     * relative, as the ack number is.
     */
    private static boolean options(StringBuilder sb, Frame f, int cp, int hl, int sackBase) {
        int end = f.b.length;
        char sep = 0;
        sb.append(", options [");
        while (hl > 0) {
            if (sep != 0) {
                sb.append(sep);
            }
            if (cp >= end) {
                return truncated(sb, sep);
            }
            int opt = f.u8(cp++);
            int len;
            if (opt == 0 || opt == 1) {
                len = 1;
            } else {
                if (cp >= end) {
                    return truncated(sb, sep);
                }
                len = f.u8(cp++);
                if (len < 2 || len > hl) {
                    return bad(sb, sep);
                }
                hl--;
            }
            hl--;
            int datalen = 0;
            sb.append(optionName(opt));
            switch (opt) {
                case 0, 1, 4 -> {
                    // eol, nop, sackOK: nothing follows
                }
                case 2, 3 -> {
                    datalen = opt == 2 ? 2 : 1;
                    if (datalen > hl) {
                        return bad(sb, sep);
                    }
                    if (cp + datalen > end) {
                        return truncated(sb, sep);
                    }
                    sb.append(' ').append(opt == 2 ? f.u16(cp) : f.u8(cp));
                }
                case 5 -> {
                    datalen = len - 2;
                    if (datalen % 8 != 0) {
                        sb.append(" invalid sack");
                    } else {
                        sb.append(' ').append(datalen / 8).append(' ');
                        for (int i = 0; i < datalen; i += 8) {
                            if (i + 8 > hl) {
                                return bad(sb, sep);
                            }
                            if (cp + i + 8 > end) {
                                return truncated(sb, sep);
                            }
                            sb.append('{').append(Integer.toUnsignedString(f.u32(cp + i) - sackBase)).append(':')
                                    .append(Integer.toUnsignedString(f.u32(cp + i + 4) - sackBase)).append('}');
                        }
                    }
                }
                case 6, 7, 11, 12, 13, 8 -> {
                    // echo, echoreply, cc, ccnew, ccecho: one 32-bit number; TS: two
                    datalen = opt == 8 ? 8 : 4;
                    if (datalen > hl) {
                        return bad(sb, sep);
                    }
                    if (cp + datalen > end) {
                        return truncated(sb, sep);
                    }
                    if (opt == 8) {
                        sb.append(" val ").append(Integer.toUnsignedString(f.u32(cp))).append(" ecr ")
                                .append(Integer.toUnsignedString(f.u32(cp + 4)));
                    } else {
                        sb.append(' ').append(Integer.toUnsignedString(f.u32(cp)));
                    }
                }
                case 28 -> {
                    // uto: the raw field, then the timeout in seconds (its low bit says the unit is minutes)
                    datalen = 2;
                    if (datalen > hl) {
                        return bad(sb, sep);
                    }
                    if (cp + datalen > end) {
                        return truncated(sb, sep);
                    }
                    int uto = f.u16(cp);
                    sb.append(" 0x").append(Integer.toHexString(uto)).append(' ').append((uto & 1) != 0 ? (uto >> 1) * 60 : uto >> 1);
                }
                default -> {
                    datalen = len - 2;
                    if (datalen > 0) {
                        sb.append(" 0x");
                    }
                    for (int i = 0; i < datalen; i++) {
                        if (i + 1 > hl) {
                            return bad(sb, sep);
                        }
                        if (cp + i >= end) {
                            return truncated(sb, sep);
                        }
                        sb.append(Character.forDigit(f.u8(cp + i) >> 4, 16)).append(Character.forDigit(f.u8(cp + i) & 15, 16));
                    }
                }
            }
            // tcpdump steps over what it decoded, not over what the length byte claims, and says so
            cp += datalen;
            hl -= datalen;
            int seen = datalen + (opt == 0 || opt == 1 ? 1 : 2);
            if (seen != len) {
                sb.append("[len ").append(len).append(']');
            }
            sep = ',';
            if (opt == 0) {
                break;
            }
        }
        sb.append(']');
        return true;
    }

    /** tcpdump closes the bracket only once an option was printed whole: {@code options [[bad opt]} is its own. */
    private static boolean bad(StringBuilder sb, char sep) {
        sb.append("[bad opt]");
        if (sep != 0) {
            sb.append(']');
        }
        return false;
    }

    private static boolean truncated(StringBuilder sb, char sep) {
        sb.append(" [|tcp]");
        if (sep != 0) {
            sb.append('>');
        }
        return false;
    }

    private static String optionName(int opt) {
        return switch (opt) {
            case 0 -> "eol";
            case 1 -> "nop";
            case 2 -> "mss";
            case 3 -> "wscale";
            case 4 -> "sackOK";
            case 5 -> "sack";
            case 6 -> "echo";
            case 7 -> "echoreply";
            case 8 -> "TS";
            case 11 -> "cc";
            case 12 -> "ccnew";
            case 13 -> "";
            case 19 -> "md5";
            case 20 -> "scps";
            case 28 -> "uto";
            case 29 -> "tcp-ao";
            case 30 -> "mptcp";
            case 34 -> "tfo";
            case 254 -> "exp";
            default -> "unknown-" + opt;
        };
    }

    /** RFC 793's ones' complement sum over the pseudo-header and the segment, its checksum field left out. */
    static int sumWithoutField(Frame f, int th, int length) {
        return sum(f, th, length, 6, 16);
    }

    /**
     * The ones' complement sum of {@code length} bytes at {@code at} with the checksum at {@code field}
     * left out, and the pseudo-header of protocol {@code proto} when it is not negative (ICMP has none).
     */
    static int sum(Frame f, int at, int length, int proto, int field) {
        long sum = proto < 0 ? 0 : (f.saddr >>> 16) + (f.saddr & 0xffff) + (f.daddr >>> 16) + (f.daddr & 0xffff) + proto + length;
        for (int i = 0; i + 1 < length; i += 2) {
            if (i != field) {
                sum += f.u16(at + i);
            }
        }
        if ((length & 1) != 0) {
            sum += f.u8(at + length - 1) << 8;
        }
        return fold(sum);
    }

    static int fold(long sum) {
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        return (int) sum;
    }

    static String hex4(int v) {
        String h = Integer.toHexString(v);
        return "0000".substring(h.length()) + h;
    }
}
