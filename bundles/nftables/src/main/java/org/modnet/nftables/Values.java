package org.modnet.nftables;

import java.util.List;
import java.util.Locale;

/** nft's values: how it reads and prints addresses, ports, protocols, ICMP types and ct states. */
final class Values {
    private Values() {
    }

    static final List<String> ICMP = List.of("echo-reply", "", "", "destination-unreachable", "source-quench", "redirect",
            "", "", "echo-request", "router-advertisement", "router-solicitation", "time-exceeded", "parameter-problem",
            "timestamp-request", "timestamp-reply", "info-request", "info-reply", "address-mask-request",
            "address-mask-reply");
    /** NF_CT_STATE bits in the order nft prints them. */
    static final String[] CT_NAMES = { "invalid", "established", "related", "new", "untracked" };
    static final int[] CT_BITS = { 1, 2, 4, 8, 64 };

    static String print(Stmt.Type t, long v) {
        return switch (t) {
            case ADDR -> LogLine.addr((int) v);
            case PROTO -> switch ((int) v) {
                case 6 -> "tcp";
                case 17 -> "udp";
                case 1 -> "icmp";
                case 136 -> "udplite";
                case 132 -> "sctp";
                case 33 -> "dccp";
                default -> Long.toString(v);
            };
            case CTSTATUS -> flags(CT_STATUS_NAMES, v);
            case PKTTYPE -> v < PKTTYPE_NAMES.length ? PKTTYPE_NAMES[(int) v] : Long.toString(v);
            case ICMP -> v < ICMP.size() && !ICMP.get((int) v).isEmpty() ? ICMP.get((int) v) : Long.toString(v);
            case CTSTATE -> ctStates(v, ",");
            case MARK -> String.format("0x%08x", v);
            default -> Long.toString(v);
        };
    }

    /** IPS_* status bits from bit 0 as nft names them (ct_status_tbl), "" for the bits it has no name for. */
    static final String[] CT_STATUS_NAMES = { "expected", "seen-reply", "assured", "confirmed", "snat", "dnat", "", "", "", "dying" };
    /** PACKET_HOST, PACKET_BROADCAST, PACKET_MULTICAST, PACKET_OTHERHOST as nft's pkttype_type names them. */
    static final String[] PKTTYPE_NAMES = { "host", "broadcast", "multicast", "other" };

    private static String flags(String[] names, long mask) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < names.length; i++) {
            if ((mask & (1L << i)) != 0 && !names[i].isEmpty()) {
                b.append(b.length() > 0 ? "," : "").append(names[i]);
            }
        }
        return b.toString();
    }

    /** nft's time (time_print): days, hours, minutes, seconds and milliseconds, each where not 0 ({@code 2m30s}). */
    static String time(long ms) {
        long[] div = { 86_400_000L, 3_600_000L, 60_000L, 1000L, 1L };
        String[] unit = { "d", "h", "m", "s", "ms" };
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < div.length; i++) {
            long n = ms / div[i];
            ms %= div[i];
            if (n > 0) {
                b.append(n).append(unit[i]);
            }
        }
        return b.isEmpty() ? "0s" : b.toString();
    }

    /** nft's time as written ({@code 30s}, {@code 1h30m}, {@code 1500ms}, a bare number of seconds) in milliseconds, or -1. */
    static long parseTime(String w) {
        if (w.matches("[0-9]{1,9}")) {
            return Long.parseLong(w) * 1000;
        }
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("([0-9]{1,9})(ms|d|h|m|s)").matcher(w);
        long ms = 0;
        int at = 0;
        while (m.find() && m.start() == at) {
            long n = Long.parseLong(m.group(1));
            ms += n * switch (m.group(2)) {
                case "d" -> 86_400_000L;
                case "h" -> 3_600_000L;
                case "m" -> 60_000L;
                case "s" -> 1000L;
                default -> 1L;
            };
            at = m.end();
        }
        return at == w.length() && at > 0 ? ms : -1;
    }

    /** nft's data unit (get_rate): the largest of bytes, kbytes, mbytes that divides the value. */
    static String bytesUnit(long v) {
        String[] units = { "bytes", "kbytes", "mbytes" };
        int u = 0;
        while (u < units.length - 1 && v >= 1024 && v % 1024 == 0) {
            v /= 1024;
            u++;
        }
        return v + " " + units[u];
    }

    static String ctStates(long mask, String sep) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < CT_NAMES.length; i++) {
            if ((mask & CT_BITS[i]) != 0) {
                b.append(b.length() > 0 ? sep : "").append(CT_NAMES[i]);
            }
        }
        return b.toString();
    }

    /** A value of type {@code t} in nft's words, or -1 when it is not one (-2: a number beyond the type's range). */
    static long parse(Stmt.Type t, String w) {
        String s = w.toLowerCase(Locale.ROOT);
        switch (t) {
            case ADDR -> {
                String[] p = s.split("\\.", -1);
                if (p.length != 4) {
                    return -1;
                }
                long a = 0;
                for (String x : p) {
                    if (!x.matches("[0-9]{1,3}") || Integer.parseInt(x) > 255) {
                        return -1;
                    }
                    a = a << 8 | Integer.parseInt(x);
                }
                return a;
            }
            case PORT -> {
                switch (s) {
                    case "ssh": return 22;
                    case "http": return 80;
                    case "https": return 443;
                    case "domain": return 53;
                    case "smtp": return 25;
                    default: return s.matches("[0-9]{1,5}") && Integer.parseInt(s) < 65536 ? Integer.parseInt(s) : -1;
                }
            }
            case PROTO -> {
                switch (s) {
                    case "tcp": return 6;
                    case "udp": return 17;
                    case "icmp": return 1;
                    case "udplite": return 136;
                    case "sctp": return 132;
                    case "dccp": return 33;
                    default: return s.matches("[0-9]{1,3}") && Integer.parseInt(s) < 256 ? Integer.parseInt(s) : -1;
                }
            }
            case ICMP -> {
                int i = ICMP.indexOf(s);
                return i >= 0 && !s.isEmpty() ? i : s.matches("[0-9]{1,3}") && Integer.parseInt(s) < 256 ? Integer.parseInt(s) : -1;
            }
            case MARK -> {
                try {
                    long v = s.startsWith("0x") ? Long.parseLong(s.substring(2), 16) : Long.parseLong(s);
                    return v >= 0 && v <= 0xffffffffL ? v : -2;
                } catch (NumberFormatException e) {
                    return -1;
                }
            }
            case CTSTATUS -> {
                int i = java.util.Arrays.asList(CT_STATUS_NAMES).indexOf(s);
                return i >= 0 && !s.isEmpty() ? 1L << i : -1;
            }
            case PKTTYPE -> {
                int i = java.util.Arrays.asList(PKTTYPE_NAMES).indexOf(s);
                return i >= 0 ? i : s.equals("unicast") ? 0 : -1;
            }
            case CTSTATE -> {
                for (int i = 0; i < CT_NAMES.length; i++) {
                    if (CT_NAMES[i].equals(s)) {
                        return CT_BITS[i];
                    }
                }
                return -1;
            }
            default -> {
                return -1;
            }
        }
    }

    /** A set or map type's name as nft writes it, or null for one modnet does not know. */
    static Stmt.Type typeOf(String name) {
        return switch (name) {
            case "ipv4_addr" -> Stmt.Type.ADDR;
            case "inet_service" -> Stmt.Type.PORT;
            case "inet_proto" -> Stmt.Type.PROTO;
            case "mark" -> Stmt.Type.MARK;
            default -> null;
        };
    }

    static String typeName(Stmt.Type t) {
        return switch (t) {
            case ADDR -> "ipv4_addr";
            case PORT -> "inet_service";
            case PROTO -> "inet_proto";
            case MARK -> "mark";
            case ICMP -> "icmp_type";
            case CTSTATUS -> "ct_status";
            case PKTTYPE -> "pkt_type";
            default -> "ct_state";
        };
    }

    /** nft's description of a type in a datatype mismatch. */
    static String describe(java.util.List<Stmt.Type> key) {
        if (key.size() > 1) {
            StringBuilder b = new StringBuilder("concatenation of (");
            for (int i = 0; i < key.size(); i++) {
                b.append(i > 0 ? ", " : "").append(describe(java.util.List.of(key.get(i))));
            }
            return b.append(")").toString();
        }
        return switch (key.get(0)) {
            case ADDR -> "IPv4 address";
            case PORT -> "internet network service";
            case PROTO -> "Internet protocol";
            case MARK -> "packet mark";
            case ICMP -> "ICMP type";
            case CTSTATUS -> "conntrack status";
            case PKTTYPE -> "packet type";
            default -> "conntrack state";
        };
    }

    /**
     * nft's separator after the {@code count}th element of a named set of key type {@code key}
     * (calculate_delim): a new line after every 2 addresses, every 5 ports or marks, every element of a
     * concatenation.
     */
    static boolean breakAfter(java.util.List<Stmt.Type> key, int count) {
        if (key.size() > 1) {
            return true;
        }
        return switch (key.get(0)) {
            case PORT, PROTO, MARK -> count % 5 == 0;
            case ADDR, CTSTATE, CTSTATUS, PKTTYPE -> count % 2 == 0;
            default -> true;
        };
    }

    /** An interval element: a prefix where it is one ({@code /24}), else {@code -END}. */
    static String printRange(Stmt.Type ty, long[] e) {
        if (ty == Stmt.Type.ADDR) {
            long size = e[1] - e[0] + 1;
            if (Long.bitCount(size) == 1 && (e[0] & (size - 1)) == 0) {
                return "/" + (32 - Long.numberOfTrailingZeros(size));
            }
        }
        return "-" + print(ty, e[1]);
    }
}
