package org.modnet.shell.snmp;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code netstat -s} of net-tools, for the Ip, Icmp, IcmpMsg, Tcp and Udp counters: the same sections, wording
 * and indentation; lines of error counters that are zero are left out, as net-tools leaves them out.
 */
final class Netstat {
    private Netstat() {
    }

    /** One line: the counter's name, its words, and whether a zero is still printed. */
    private record Line(String counter, String words, boolean always) {
    }

    private static final List<Line> IP = List.of(
            new Line("IpInReceives", "%d total packets received", true),
            new Line("IpInHdrErrors", "%d with invalid headers", false),
            new Line("IpInAddrErrors", "%d with invalid addresses", false),
            new Line("IpForwDatagrams", "%d forwarded", true),
            new Line("IpInUnknownProtos", "%d with unknown protocol", false),
            new Line("IpInDiscards", "%d incoming packets discarded", true),
            new Line("IpInDelivers", "%d incoming packets delivered", true),
            new Line("IpOutRequests", "%d requests sent out", true),
            new Line("IpOutDiscards", "%d outgoing packets dropped", false),
            new Line("IpOutNoRoutes", "%d dropped because of missing route", false),
            new Line("IpReasmTimeout", "%d fragments dropped after timeout", false),
            new Line("IpReasmReqds", "%d reassemblies required", false),
            new Line("IpReasmOKs", "%d packets reassembled ok", false),
            new Line("IpReasmFails", "%d packet reassemblies failed", false),
            new Line("IpFragOKs", "%d fragments received ok", false),
            new Line("IpFragFails", "%d fragments failed", false),
            new Line("IpFragCreates", "%d fragments created", false));

    /** net-tools prints the Tcp lines whatever their value; RtoAlgorithm, RtoMin, RtoMax and MaxConn not at all. */
    private static final List<Line> TCP = List.of(
            new Line("TcpActiveOpens", "%d active connection openings", true),
            new Line("TcpPassiveOpens", "%d passive connection openings", true),
            new Line("TcpAttemptFails", "%d failed connection attempts", true),
            new Line("TcpEstabResets", "%d connection resets received", true),
            new Line("TcpCurrEstab", "%d connections established", true),
            new Line("TcpInSegs", "%d segments received", true),
            new Line("TcpOutSegs", "%d segments sent out", true),
            new Line("TcpRetransSegs", "%d segments retransmitted", true),
            new Line("TcpInErrs", "%d bad segments received", true),
            new Line("TcpOutRsts", "%d resets sent", true),
            new Line("TcpInCsumErrors", "InCsumErrors: %d", false));

    private static final List<Line> UDP = List.of(
            new Line("UdpInDatagrams", "%d packets received", true),
            new Line("UdpNoPorts", "%d packets to unknown port received", true),
            new Line("UdpInErrors", "%d packet receive errors", true),
            new Line("UdpOutDatagrams", "%d packets sent", true),
            new Line("UdpRcvbufErrors", "%d receive buffer errors", true),
            new Line("UdpSndbufErrors", "%d send buffer errors", true),
            new Line("UdpInCsumErrors", "InCsumErrors: %d", false),
            new Line("UdpIgnoredMulti", "IgnoredMulti: %d", false),
            new Line("UdpMemErrors", "MemErrors: %d", false));

    private static final String[] ICMP_TYPES = new String[19];

    static {
        ICMP_TYPES[0] = "echo replies";
        ICMP_TYPES[3] = "destination unreachable";
        ICMP_TYPES[4] = "source quenches";
        ICMP_TYPES[5] = "redirects";
        ICMP_TYPES[8] = "echo requests";
        ICMP_TYPES[11] = "timeout in transit";
        ICMP_TYPES[12] = "wrong parameters";
        ICMP_TYPES[13] = "timestamp request";
        ICMP_TYPES[14] = "timestamp replies";
    }

    /** The text of {@code netstat -s} for these counters; {@code forwarding} is net.ipv4.ip_forward. */
    static List<String> render(Map<String, Long> c, boolean forwarding) {
        List<String> out = new ArrayList<>();
        if (c.containsKey("IpInReceives")) {
            out.add("Ip:");
            out.add("    Forwarding: " + (forwarding ? 1 : 2));
            for (Line l : IP) {
                long v = c.getOrDefault(l.counter, 0L);
                if (l.always || v != 0) {
                    out.add("    " + String.format(l.words, v));
                }
            }
        }
        if (c.containsKey("IcmpInMsgs")) {
            out.add("Icmp:");
            out.add("    " + c.get("IcmpInMsgs") + " ICMP messages received");
            out.add("    " + c.getOrDefault("IcmpInErrors", 0L) + " input ICMP message failed");
            histogram(out, c, "In", "    ICMP input histogram:");
            out.add("    " + c.getOrDefault("IcmpOutMsgs", 0L) + " ICMP messages sent");
            out.add("    " + c.getOrDefault("IcmpOutErrors", 0L) + " ICMP messages failed");
            for (String limit : new String[] { "OutRateLimitGlobal", "OutRateLimitHost" }) {
                long v = c.getOrDefault("Icmp" + limit, 0L);
                if (v != 0) {
                    out.add("    " + limit + ": " + v); // net-tools has no words for them: its "try our best" form
                }
            }
            histogram(out, c, "Out", "    ICMP output histogram:");
            List<String> msg = new ArrayList<>();
            for (Map.Entry<String, Long> e : c.entrySet()) {
                if (e.getKey().startsWith("IcmpMsg")) {
                    msg.add("        " + e.getKey().substring("IcmpMsg".length()) + ": " + e.getValue());
                }
            }
            if (!msg.isEmpty()) {
                out.add("IcmpMsg:");
                out.addAll(msg);
            }
        }
        if (c.containsKey("TcpInSegs")) {
            out.add("Tcp:");
            for (Line l : TCP) {
                long v = c.getOrDefault(l.counter, 0L);
                if (l.always || v != 0) {
                    out.add("    " + String.format(l.words, v));
                }
            }
        }
        if (c.containsKey("UdpInDatagrams")) {
            out.add("Udp:");
            for (Line l : UDP) {
                long v = c.getOrDefault(l.counter, 0L);
                if (l.always || v != 0) {
                    out.add("    " + String.format(l.words, v));
                }
            }
        }
        return out;
    }

    private static void histogram(List<String> out, Map<String, Long> c, String dir, String title) {
        List<String> lines = new ArrayList<>();
        for (int t = 0; t < ICMP_TYPES.length; t++) {
            long v = c.getOrDefault("IcmpMsg" + dir + "Type" + t, 0L);
            if (v != 0 && ICMP_TYPES[t] != null) {
                lines.add("        " + ICMP_TYPES[t] + ": " + v);
            }
        }
        if (!lines.isEmpty()) {
            out.add(title);
            out.addAll(lines);
        }
    }
}
