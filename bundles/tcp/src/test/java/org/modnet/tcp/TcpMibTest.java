package org.modnet.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class TcpMibTest {
    private final TcpMib mib = new TcpMib(2);

    @Test
    void theTcpLineHasLinuxsNamesInLinuxsOrder() {
        assertEquals(List.of("TcpRtoAlgorithm", "TcpRtoMin", "TcpRtoMax", "TcpMaxConn", "TcpActiveOpens",
                "TcpPassiveOpens", "TcpAttemptFails", "TcpEstabResets", "TcpCurrEstab", "TcpInSegs", "TcpOutSegs",
                "TcpRetransSegs", "TcpInErrs", "TcpOutRsts", "TcpInCsumErrors"), new ArrayList<>(mib.tcp().keySet()));
    }

    @Test
    void theConstantsAreWhatLinuxShows() {
        Map<String, Long> tcp = mib.tcp();
        assertEquals(1L, tcp.get("TcpRtoAlgorithm"));
        assertEquals(200L, tcp.get("TcpRtoMin"));
        assertEquals(120000L, tcp.get("TcpRtoMax"));
        assertEquals(-1L, tcp.get("TcpMaxConn"));
    }

    @Test
    void theTcpExtLineHasLinuxsNamesInLinuxsOrder() {
        List<String> all = new ArrayList<>(mib.ext().keySet());
        List<String> names = all.subList(0, all.indexOf("TcpExtTCPAODroppedIcmps") + 1);
        assertEquals(List.of("TcpExtTCPCongestionFallback", "TcpExtTCPHandOverLeavingDrop"), all.subList(names.size(), all.size()),
                "modnet's own counters come after Linux's");
        assertEquals(List.of("TcpExtSyncookiesSent", "TcpExtSyncookiesRecv", "TcpExtSyncookiesFailed",
                "TcpExtEmbryonicRsts", "TcpExtPruneCalled", "TcpExtRcvPruned", "TcpExtOfoPruned",
                "TcpExtOutOfWindowIcmps", "TcpExtLockDroppedIcmps", "TcpExtArpFilter", "TcpExtTW", "TcpExtTWRecycled",
                "TcpExtTWKilled", "TcpExtPAWSActive", "TcpExtPAWSEstab", "TcpExtDelayedACKs"), names.subList(0, 16));
        assertEquals(List.of("TcpExtTCPMigrateReqSuccess", "TcpExtTCPMigrateReqFailure", "TcpExtTCPPLBRehash",
                "TcpExtTCPAORequired", "TcpExtTCPAOBad", "TcpExtTCPAOKeyNotFound", "TcpExtTCPAOGood",
                "TcpExtTCPAODroppedIcmps"), names.subList(names.size() - 8, names.size()));
        assertEquals(131, names.size(), "Linux 6.8's snmp4_net_list");
        // neighbours the counters sit between, in /proc/net/netstat
        assertOrder(names, "ListenOverflows", "ListenDrops", "TCPHPHits", "TCPPureAcks", "TCPHPAcks");
        assertOrder(names, "TCPRcvCollapsed", "TCPBacklogCoalesce", "TCPDSACKOldSent", "TCPDSACKOfoSent",
                "TCPDSACKRecv");
        assertOrder(names, "TCPAbortOnData", "TCPAbortOnClose", "TCPAbortOnMemory", "TCPAbortOnTimeout",
                "TCPAbortOnLinger", "TCPAbortFailed", "TCPMemoryPressures");
        assertOrder(names, "TCPTimeWaitOverflow", "TCPReqQFullDoCookies", "TCPReqQFullDrop", "TCPRetransFail",
                "TCPRcvCoalesce", "TCPOFOQueue", "TCPOFODrop", "TCPOFOMerge", "TCPChallengeACK", "TCPSYNChallenge");
        assertOrder(names, "TCPACKSkippedSynRecv", "TCPACKSkippedPAWS", "TCPACKSkippedSeq", "TCPACKSkippedFinWait2",
                "TCPACKSkippedTimeWait", "TCPACKSkippedChallenge", "TCPWinProbe", "TCPKeepAlive");
        assertOrder(names, "TCPDelivered", "TCPDeliveredCE", "TCPAckCompressed", "TCPZeroWindowDrop", "TCPRcvQDrop",
                "TCPWqueueTooBig", "TCPFastOpenPassiveAltKey", "TcpTimeoutRehash");
    }

    private static void assertOrder(List<String> names, String... run) {
        int i = names.indexOf("TcpExt" + run[0]);
        for (int k = 0; k < run.length; k++) {
            assertEquals("TcpExt" + run[k], names.get(i + k), "after TcpExt" + run[0]);
        }
    }

    @Test
    void countsOnEveryCpuAndOutsideAnySoftirqAreSummed() {
        mib.inc(0, TcpMib.Tcp.InSegs);
        mib.inc(1, TcpMib.Tcp.InSegs);
        mib.inc(-1, TcpMib.Tcp.InSegs);
        mib.add(1, TcpMib.Ext.TCPDelivered, 10);
        mib.inc(-1, TcpMib.Ext.TCPDelivered);
        assertEquals(3, mib.get(TcpMib.Tcp.InSegs));
        assertEquals(11, mib.get(TcpMib.Ext.TCPDelivered));
        assertEquals(3L, mib.snapshot().get("TcpInSegs"));
        assertEquals(11L, mib.snapshot().get("TcpExtTCPDelivered"));
    }

    @Test
    void aCpuBeyondTheStripesCountsInTheSharedOne() {
        mib.inc(7, TcpMib.Ext.ListenDrops);
        assertEquals(1, mib.get(TcpMib.Ext.ListenDrops));
    }

    @Test
    void aGaugeRaisedOnOneCpuAndLoweredOnAnotherSumsToZero() {
        mib.inc(0, TcpMib.Tcp.CurrEstab);
        mib.add(1, TcpMib.Tcp.CurrEstab, -1);
        assertEquals(0, mib.get(TcpMib.Tcp.CurrEstab));
    }

    @Test
    void countersOfOneMibDoNotSpillIntoTheOther() {
        mib.inc(0, TcpMib.Tcp.InCsumErrors);
        mib.inc(1, TcpMib.Ext.SyncookiesSent);
        assertEquals(1, mib.get(TcpMib.Tcp.InCsumErrors));
        assertEquals(1, mib.get(TcpMib.Ext.SyncookiesSent));
        assertEquals(0, mib.get(TcpMib.Ext.SyncookiesRecv));
        assertEquals(0, mib.get(TcpMib.Ext.TCPAODroppedIcmps));
        long total = mib.snapshot().values().stream().mapToLong(Long::longValue).sum();
        assertEquals(1 + 200 + 120000 - 1 + 2, total, "nothing else moved");
    }

    @Test
    void threadsOutsideAnySoftirqCountWithoutLosingIncrements() throws InterruptedException {
        Thread[] threads = new Thread[4];
        for (int t = 0; t < threads.length; t++) {
            threads[t] = new Thread(() -> {
                for (int i = 0; i < 50_000; i++) {
                    mib.inc(-1, TcpMib.Tcp.OutSegs);
                }
            });
            threads[t].start();
        }
        for (Thread t : threads) {
            t.join();
        }
        assertEquals(200_000, mib.get(TcpMib.Tcp.OutSegs));
    }

    @Test
    void aMibNeedsACpu() {
        assertThrows(IllegalArgumentException.class, () -> new TcpMib(0));
    }
}
