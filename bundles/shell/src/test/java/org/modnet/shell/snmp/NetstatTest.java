package org.modnet.shell.snmp;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class NetstatTest {

    @Test
    void ipAndIcmpSectionsReadAsNetToolsWritesThem() {
        Map<String, Long> c = new LinkedHashMap<>();
        c.put("IpInReceives", 4L);
        c.put("IpInHdrErrors", 0L);
        c.put("IpForwDatagrams", 0L);
        c.put("IpInDiscards", 0L);
        c.put("IpInDelivers", 4L);
        c.put("IpOutRequests", 4L);
        c.put("IcmpInMsgs", 4L);
        c.put("IcmpInErrors", 0L);
        c.put("IcmpOutMsgs", 4L);
        c.put("IcmpOutErrors", 0L);
        c.put("IcmpMsgInType0", 2L);
        c.put("IcmpMsgInType8", 2L);
        c.put("IcmpMsgOutType0", 2L);
        c.put("IcmpMsgOutType8", 2L);
        assertEquals(List.of("Ip:", "    Forwarding: 2", "    4 total packets received", "    0 forwarded",
                "    0 incoming packets discarded", "    4 incoming packets delivered", "    4 requests sent out", "Icmp:",
                "    4 ICMP messages received", "    0 input ICMP message failed", "    ICMP input histogram:",
                "        echo replies: 2", "        echo requests: 2", "    4 ICMP messages sent", "    0 ICMP messages failed",
                "    ICMP output histogram:", "        echo replies: 2", "        echo requests: 2", "IcmpMsg:",
                "        InType0: 2", "        InType8: 2", "        OutType0: 2", "        OutType8: 2"),
                Netstat.render(c, false));
    }

    @Test
    void icmpRateLimitRefusalsShowInNetToolsRawFormWhenNotZero() {
        Map<String, Long> c = new LinkedHashMap<>();
        c.put("IcmpInMsgs", 0L);
        c.put("IcmpOutMsgs", 50L);
        c.put("IcmpOutErrors", 0L);
        c.put("IcmpOutRateLimitGlobal", 1770L);
        c.put("IcmpOutRateLimitHost", 0L);
        List<String> out = Netstat.render(c, false);
        int failed = out.indexOf("    0 ICMP messages failed");
        assertEquals("    OutRateLimitGlobal: 1770", out.get(failed + 1));
        assertEquals(-1, out.indexOf("    OutRateLimitHost: 0"));
    }

    @Test
    void theTcpSectionComesBeforeUdpInNetToolsWords() {
        Map<String, Long> c = new LinkedHashMap<>();
        c.put("TcpRtoAlgorithm", 1L);
        c.put("TcpRtoMin", 200L);
        c.put("TcpActiveOpens", 0L);
        c.put("TcpInSegs", 3L);
        c.put("TcpOutSegs", 2L);
        c.put("TcpInErrs", 1L);
        c.put("TcpOutRsts", 2L);
        c.put("TcpInCsumErrors", 1L);
        c.put("UdpInDatagrams", 0L);
        assertEquals(List.of("Tcp:", "    0 active connection openings", "    0 passive connection openings",
                "    0 failed connection attempts", "    0 connection resets received", "    0 connections established",
                "    3 segments received", "    2 segments sent out", "    0 segments retransmitted",
                "    1 bad segments received", "    2 resets sent", "    InCsumErrors: 1", "Udp:", "    0 packets received",
                "    0 packets to unknown port received", "    0 packet receive errors", "    0 packets sent",
                "    0 receive buffer errors", "    0 send buffer errors"), Netstat.render(c, false));
    }

    @Test
    void tcpExtPrintsTheNonZeroCountersInNetToolsWordsOrByName() {
        Map<String, Long> c = new LinkedHashMap<>();
        c.put("TcpInSegs", 5L);
        c.put("TcpExtSyncookiesSent", 0L);
        c.put("TcpExtDelayedACKs", 3L);
        c.put("TcpExtListenOverflows", 0L);
        c.put("TcpExtTCPHPHits", 0L);
        c.put("TcpExtTCPPureAcks", 2L);
        c.put("TcpExtTCPBacklogDrop", 2L);
        c.put("TcpExtTCPOrigDataSent", 1L);
        c.put("TcpExtTCPDelivered", 0L);
        List<String> out = Netstat.render(c, false);
        int at = out.indexOf("TcpExt:");
        assertEquals(List.of("TcpExt:", "    3 delayed acks sent", "    0 packet headers predicted",
                "    2 acknowledgments not containing data payload received", "    TCPBacklogDrop: 2", "    TCPOrigDataSent: 1"),
                out.subList(at, out.size()));
    }
}
