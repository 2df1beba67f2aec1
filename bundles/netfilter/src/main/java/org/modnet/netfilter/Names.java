package org.modnet.netfilter;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** The names iptables knows for protocols, ICMP types and a few services (numeric otherwise). */
final class Names {
    private Names() {
    }

    static final String[] TCP_FLAGS = { "FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR" };

    /** iptables' icmp types: name, type, code min, code max (libxt_icmp's table, in its order). */
    record IcmpName(String name, int type, int codeMin, int codeMax) {
    }

    static final IcmpName[] ICMP = {
            new IcmpName("any", 0xff, 0, 0xff),
            new IcmpName("echo-reply", 0, 0, 0xff),
            new IcmpName("destination-unreachable", 3, 0, 0xff),
            new IcmpName("network-unreachable", 3, 0, 0),
            new IcmpName("host-unreachable", 3, 1, 1),
            new IcmpName("protocol-unreachable", 3, 2, 2),
            new IcmpName("port-unreachable", 3, 3, 3),
            new IcmpName("fragmentation-needed", 3, 4, 4),
            new IcmpName("source-route-failed", 3, 5, 5),
            new IcmpName("network-unknown", 3, 6, 6),
            new IcmpName("host-unknown", 3, 7, 7),
            new IcmpName("network-prohibited", 3, 9, 9),
            new IcmpName("host-prohibited", 3, 10, 10),
            new IcmpName("TOS-network-unreachable", 3, 11, 11),
            new IcmpName("TOS-host-unreachable", 3, 12, 12),
            new IcmpName("communication-prohibited", 3, 13, 13),
            new IcmpName("host-precedence-violation", 3, 14, 14),
            new IcmpName("precedence-cutoff", 3, 15, 15),
            new IcmpName("source-quench", 4, 0, 0xff),
            new IcmpName("redirect", 5, 0, 0xff),
            new IcmpName("network-redirect", 5, 0, 0),
            new IcmpName("host-redirect", 5, 1, 1),
            new IcmpName("TOS-network-redirect", 5, 2, 2),
            new IcmpName("TOS-host-redirect", 5, 3, 3),
            new IcmpName("echo-request", 8, 0, 0xff),
            new IcmpName("router-advertisement", 9, 0, 0xff),
            new IcmpName("router-solicitation", 10, 0, 0xff),
            new IcmpName("time-exceeded", 11, 0, 0xff),
            new IcmpName("ttl-zero-during-transit", 11, 0, 0),
            new IcmpName("ttl-zero-during-reassembly", 11, 1, 1),
            new IcmpName("parameter-problem", 12, 0, 0xff),
            new IcmpName("ip-header-bad", 12, 0, 0),
            new IcmpName("required-option-missing", 12, 1, 1),
            new IcmpName("timestamp-request", 13, 0, 0xff),
            new IcmpName("timestamp-reply", 14, 0, 0xff),
            new IcmpName("address-mask-request", 17, 0, 0xff),
            new IcmpName("address-mask-reply", 18, 0, 0xff) };

    /**
     * The services database as iptables reads it (getservbyport/getservbyname on /etc/services):
     * "name port/proto", the first name of a port per protocol. Empty when the file is not there.
     */
    private static final Map<String, String> BY_PORT = new HashMap<>();
    private static final Map<String, Integer> BY_NAME = new HashMap<>();

    static {
        try {
            for (String line : Files.readAllLines(Path.of("/etc/services"))) {
                int hash = line.indexOf('#');
                String[] f = (hash >= 0 ? line.substring(0, hash) : line).trim().split("\\s+");
                if (f.length < 2 || !f[1].contains("/")) {
                    continue;
                }
                String[] pp = f[1].split("/");
                try {
                    int port = Integer.parseInt(pp[0]);
                    BY_PORT.putIfAbsent(port + "/" + pp[1], f[0]);
                    for (int i = 0; i < f.length; i++) {
                        if (i != 1) {
                            BY_NAME.putIfAbsent(f[i] + "/" + pp[1], port);
                        }
                    }
                } catch (NumberFormatException ignored) {
                    // not a service line
                }
            }
        } catch (IOException | RuntimeException e) {
            // no services database: ports print as numbers, as iptables does then
        }
    }

    static String service(int port, boolean numeric, int proto) {
        String s = numeric ? null : BY_PORT.get(port + (proto == 17 ? "/udp" : "/tcp"));
        return s != null ? s : Integer.toString(port);
    }

    static int serviceByName(String name, int proto) {
        Integer p = BY_NAME.get(name + (proto == 17 ? "/udp" : "/tcp"));
        return p != null ? p : -1;
    }

    static String protoName(int p) {
        return switch (p) {
            case 0 -> "all";
            case 1 -> "icmp";
            case 6 -> "tcp";
            case 17 -> "udp";
            default -> null;
        };
    }

    static String addr(int a) {
        return ((a >>> 24) & 0xff) + "." + ((a >>> 16) & 0xff) + "." + ((a >>> 8) & 0xff) + "." + (a & 0xff);
    }
}
