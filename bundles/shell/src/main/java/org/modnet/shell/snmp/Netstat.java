package org.modnet.shell.snmp;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code netstat -s} of net-tools, for the Ip, Icmp, IcmpMsg, Tcp, Udp, TcpExt and IpExt counters: the same sections,
 * wording and indentation; lines of error counters that are zero are left out, as net-tools leaves them out.
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
            new Line("IpFragCreates", "%d fragments created", false),
            new Line("IpOutTransmits", "OutTransmits: %d", false)); // net-tools has no words for it: "Name: N"

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

    /**
     * net-tools' words for the TcpExt counters it knows (statistics.c's {@code Tcpexttab}); a counter
     * without words prints as {@code Name: N}. All print only when not zero, but TCPHPHits always.
     */
    private static final Map<String, String> TCP_EXT = Map.ofEntries(
            Map.entry("DelayedACKLocked", "%d delayed acks further delayed because of locked socket"),
            Map.entry("DelayedACKLost", "Quick ack mode was activated %d times"),
            Map.entry("DelayedACKs", "%d delayed acks sent"),
            Map.entry("EmbryonicRsts", "%d resets received for embryonic SYN_RECV sockets"),
            Map.entry("ListenDrops", "%d SYNs to LISTEN sockets dropped"),
            Map.entry("ListenOverflows", "%d times the listen queue of a socket overflowed"),
            Map.entry("LockDroppedIcmps", "%d ICMP packets dropped because socket was locked"),
            Map.entry("OfoPruned", "%d packets dropped from out-of-order queue because of socket buffer overrun"),
            Map.entry("OutOfWindowIcmps", "%d ICMP packets dropped because they were out-of-window"),
            Map.entry("PAWSActive", "%d active connections rejected because of time stamp"),
            Map.entry("PAWSEstab", "%d packetes rejected in established connections because of timestamp"),
            Map.entry("PAWSPassive", "%d passive connections rejected because of time stamp"),
            Map.entry("PruneCalled", "%d packets pruned from receive queue because of socket buffer overrun"),
            Map.entry("RcvPruned", "%d packets pruned from receive queue"),
            Map.entry("SockMallocOOM", "Ran %d times out of system memory during packet sending"),
            Map.entry("SyncookiesFailed", "%d invalid SYN cookies received"),
            Map.entry("SyncookiesRecv", "%d SYN cookies received"),
            Map.entry("SyncookiesSent", "%d SYN cookies sent"),
            Map.entry("TCPAbortFailed", "%d times unable to send RST due to no memory"),
            Map.entry("TCPAbortOnClose", "%d connections reset due to early user close"),
            Map.entry("TCPAbortOnData", "%d connections reset due to unexpected data"),
            Map.entry("TCPAbortOnLinger", "%d connections aborted after user close in linger timeout"),
            Map.entry("TCPAbortOnMemory", "%d connections aborted due to memory pressure"),
            Map.entry("TCPAbortOnSyn", "%d connections reset due to unexpected SYN"),
            Map.entry("TCPAbortOnTimeout", "%d connections aborted due to timeout"),
            Map.entry("TCPDSACKOfoRecv", "%d DSACKs for out of order packets received"),
            Map.entry("TCPDSACKOfoSent", "%d DSACKs sent for out of order packets"),
            Map.entry("TCPDSACKOldSent", "%d DSACKs sent for old packets"),
            Map.entry("TCPDSACKRecv", "%d DSACKs received"),
            Map.entry("TCPDSACKUndo", "%d congestion windows recovered without slow start by DSACK"),
            Map.entry("TCPFastRetrans", "%d fast retransmits"),
            Map.entry("TCPFullUndo", "%d congestion windows fully recovered without slow start"),
            Map.entry("TCPHPAcks", "%d predicted acknowledgments"),
            Map.entry("TCPHPHits", "%d packet headers predicted"),
            Map.entry("TCPLossFailures", "%d timeouts in loss state"),
            Map.entry("TCPLossUndo", "%d congestion windows recovered without slow start after partial ack"),
            Map.entry("TCPMemoryPressures", "TCP ran low on memory %d times"),
            Map.entry("TCPPartialUndo", "%d congestion windows partially recovered using Hoe heuristic"),
            Map.entry("TCPPureAcks", "%d acknowledgments not containing data payload received"),
            Map.entry("TCPRcvCollapsed", "%d packets collapsed in receive queue due to low socket buffer"),
            Map.entry("TCPRenoFailures", "%d timeouts after reno fast retransmit"),
            Map.entry("TCPRenoRecoveryFail", "%d classic Reno fast retransmits failed"),
            Map.entry("TCPRenoRecovery", "%d times recovered from packet loss due to fast retransmit"),
            Map.entry("TCPRenoReorder", "Detected reordering %d times using reno fast retransmit"),
            Map.entry("TCPSackFailures", "%d timeouts after SACK recovery"),
            Map.entry("TCPSackRecoveryFail", "%d SACK retransmits failed"),
            Map.entry("TCPSackRecovery", "%d times recovered from packet loss by selective acknowledgements"),
            Map.entry("TCPSACKReneging", "%d bad SACK blocks received"),
            Map.entry("TCPSACKReorder", "Detected reordering %d times using SACK"),
            Map.entry("TCPSlowStartRetrans", "%d retransmits in slow start"),
            Map.entry("TCPTimeouts", "%d other TCP timeouts"),
            Map.entry("TCPTSReorder", "Detected reordering %d times using time stamp"),
            Map.entry("TWKilled", "%d TCP sockets finished time wait in slow timer"),
            Map.entry("TW", "%d TCP sockets finished time wait in fast timer"),
            Map.entry("TWRecycled", "%d time wait sockets recycled by time stamp"));

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
        if (c.containsKey("TcpExtTCPHPHits")) {
            out.add("TcpExt:");
            for (Map.Entry<String, Long> e : c.entrySet()) { // /proc/net/netstat's order
                if (!e.getKey().startsWith("TcpExt")) {
                    continue;
                }
                String name = e.getKey().substring("TcpExt".length());
                long v = e.getValue();
                String words = TCP_EXT.get(name);
                if (v != 0 || name.equals("TCPHPHits")) {
                    out.add("    " + (words != null ? String.format(words, v) : name + ": " + v));
                }
            }
        }
        if (c.containsKey("IpExtInOctets")) {
            out.add("IpExt:"); // net-tools' generic form: the header, then each counter not zero as "Name: N"
            for (Map.Entry<String, Long> e : c.entrySet()) {
                if (e.getKey().startsWith("IpExt") && e.getValue() != 0) {
                    out.add("    " + e.getKey().substring("IpExt".length()) + ": " + e.getValue());
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
