package org.modnet.itests;

import static org.hamcrest.CoreMatchers.containsString;
import static org.hamcrest.CoreMatchers.not;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.modnet.itests.TcpStreams.check;
import static org.modnet.itests.TcpStreams.counter;
import static org.modnet.itests.TcpStreams.receiveAll;
import static org.modnet.itests.TcpStreams.sendAll;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import javax.inject.Inject;

import org.apache.felix.service.command.CommandProcessor;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.modnet.api.feature.FeatureService;
import org.modnet.api.net.NetCore;
import org.modnet.api.tcp.TcpCongestion;
import org.modnet.socket.api.SocketCalls;
import org.modnet.socket.api.Sockets;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerMethod;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;

/**
 * Issue 17's TCP under loss on a real Felix: transfers between two namespaces over a veth whose both
 * ends carry {@value #NETEM}, so data and ACKs alike are lost, reordered and duplicated, each checked
 * by SHA-256 at both ends, with no reset, and with the sender's counters showing that loss recovery
 * ran. The values: 10% loss is the issue's; netem reorders only against a delay (a packet it reorders
 * skips the delay and overtakes the ones held), so 1 ms of delay is what makes {@code reorder 25% 50%}
 * work, and it keeps the RTT near 2 ms, the shortest that still reorders; 25% reordering with 50%
 * correlation sends bursts out of order, past three duplicate ACKs, for RACK's reordering window and
 * the undo of spurious retransmits; {@code duplicate 1%} brings the receiver duplicates to D-SACK.
 * <p>
 * Reno, CUBIC and BBR each move 100 MB at once with {@code -Dmodnet.bigtcp=true} (as TcpBulkIT), 8 MB
 * in CI, one namespace pair each (so each has its own counters). 10% loss each way makes these
 * transfers RTO-bound, on Linux too: a lost retransmission or a window too small for three duplicate
 * ACKs waits for the 200 ms minimum RTO, so at 1-3 Mbit/s 100 MB take 5-15 minutes, more than CI
 * can give. Switching a live connection with TCP_CONGESTION (cubic to reno: bbr is refused with EPERM,
 * as on Linux, while it is not in {@code tcp_allowed_congestion_control}) and stopping the CUBIC
 * bundle under a transfer each use {@value #SHORT_MB} MB, which is enough: the change comes halfway, with data in
 * flight, and the second half crosses the same lossy link on the new algorithm.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerMethod.class)
public class TcpLossIT {
    static final String NETEM = "netem delay 1ms loss '10%' reorder '25%' '50%' duplicate '1%'"; // Gogo reads a bare % as an operator
    private static final boolean BIG = Boolean.getBoolean("modnet.bigtcp");
    static final long BULK_MB = BIG ? 100 : 8;
    static final long SHORT_MB = 4;

    @Inject
    private BundleContext context;

    @Inject
    private FeatureService features;

    @Inject
    private CommandProcessor processor;

    private Sockets sockets;
    /** Each namespace's TcpOutRsts once its transfer was checked, before the sockets closed. */
    private final Map<String, Long> resetsBeforeClose = new HashMap<>();
    private final ExecutorService threads = Executors.newCachedThreadPool();

    @Configuration
    public Option[] config() throws Exception {
        Option[] boot = ModnetRuntime.options();
        Option[] all = Arrays.copyOf(boot, boot.length + 1);
        all[boot.length] = org.ops4j.pax.exam.CoreOptions.bundle(ModnetRuntime.root()
                .resolve("run-configs/target/repo/org.modnet.sock-0.1.0-SNAPSHOT.jar").toUri().toString());
        return all;
    }

    @Before
    public void host() throws Exception {
        features.install("host");
        ModnetRuntime.service(context, NetCore.class, null);
        ModnetRuntime.service(context, org.modnet.api.inet.SnmpMib.class, "(modnet.ipproto=6)");
        ModnetRuntime.service(context, org.modnet.api.sched.QdiscOps.class, "(modnet.qdisc.kind=netem)");
        sockets = ModnetRuntime.service(context, Sockets.class, null);
    }

    @After
    public void stopThreads() {
        threads.shutdownNow();
    }

    private String sh(String ns, String line) throws Exception {
        return ModnetRuntime.run(processor, ns, line);
    }

    /** Namespaces {@code "a" + k} (10.17.k.1) and {@code "b" + k} (10.17.k.2) on a veth, netem on both ends. */
    private int lossyPair(int k, String cong) throws Exception {
        String a = "a" + k;
        String b = "b" + k;
        ModnetRuntime.run(processor, "ip netns add " + a + " ; ip netns add " + b);
        sh(a, "ip link add veth0 type veth peer name veth1");
        sh(a, "ip link set veth1 netns " + b);
        sh(a, "ip addr add 10.17." + k + ".1/24 dev veth0");
        sh(b, "ip addr add 10.17." + k + ".2/24 dev veth1");
        sh(a, "ip link set veth0 up");
        sh(b, "ip link set veth1 up");
        sh(a, "ping -c 1 10.17." + k + ".2"); // ARP before the loss
        for (String ns : List.of(a, b)) {
            sh(ns, "sysctl -w net.ipv4.tcp_congestion_control=" + cong);
        }
        sh(a, "tc qdisc add dev veth0 root " + NETEM);
        sh(b, "tc qdisc add dev veth1 root " + NETEM);
        assertThat(sh(b, "tc qdisc show dev veth1"), containsString("loss 10%"));
        return 0x0a110002 | k << 8;
    }

    /** A transfer under way: the stream's SHA-256 as sent and as received, the time it started. */
    private record Transfer(Object[] conn, CompletableFuture<byte[]> sent, CompletableFuture<Object[]> received, long t0) {
        SocketCalls client() {
            return (SocketCalls) conn[0];
        }

        int fd() {
            return (int) conn[1];
        }

        /** Waits for both ends; checks the count and SHA-256; returns the seconds until the receiver saw the end. */
        double check(String what, long bytes) throws Exception {
            byte[] s = sent.get(900, TimeUnit.SECONDS); // first: a sender that failed sends no FIN
            Object[] r = received.get(120, TimeUnit.SECONDS);
            double secs = ((long) r[2] - t0) / 1e9;
            assertEquals(what + ": bytes that arrived", bytes, (long) (Long) r[0]);
            assertArrayEquals(what + ": SHA-256 of what arrived", s, (byte[]) r[1]);
            return secs;
        }

        void close() {
            ((SocketCalls) conn[0]).close();
            ((SocketCalls) conn[2]).close();
        }
    }

    /** {@code bytes} from a{@code k} to b{@code k}, then the sender's FIN; {@code midway} runs in the sender halfway. */
    private Transfer start(int k, int addr, long bytes, Runnable midway) {
        Object[] c = TcpStreams.connect(sockets, "a" + k, "b" + k, addr, 5000 + k);
        SocketCalls client = (SocketCalls) c[0];
        SocketCalls server = (SocketCalls) c[2];
        long t0 = System.nanoTime();
        CompletableFuture<Object[]> received = CompletableFuture.supplyAsync(() -> {
            Object[] r = receiveAll(server, (int) c[3]);
            return new Object[] { r[0], r[1], System.nanoTime() };
        }, threads);
        CompletableFuture<byte[]> sent = CompletableFuture.supplyAsync(() -> {
            byte[] d = sendAll(client, (int) c[1], k, bytes, midway);
            check(client.shutdown((int) c[1], SocketCalls.SHUT_WR), "shutdown");
            return d;
        }, threads);
        return new Transfer(c, sent, received, t0);
    }

    /** Takes each namespace's TcpOutRsts now, with the transfers checked and their sockets still open. */
    private void resetsSoFar(String... namespaces) throws Exception {
        for (String ns : namespaces) {
            resetsBeforeClose.put(ns, counter(sh(ns, "nstat -az"), "TcpOutRsts"));
        }
    }

    /**
     * Loss recovery ran in {@code ns} and nothing was reset, by its counters; they are printed. Resets are
     * counted up to the close ({@link #resetsSoFar}): after it, a reset may answer a segment for a
     * connection that is gone, as on Linux (tcp_v4_rcv's no-socket path): netem's duplicate of the peer's
     * last ACK, or of its ACK of a FIN, arriving after the LAST-ACK socket closed. Those are printed, and
     * no connection may have been reset at any time.
     */
    private void recoveredWithoutReset(String what, String ns, String peer) throws Exception {
        String n = sh(ns, "nstat -az");
        System.out.printf("TcpLossIT: %s: RetransSegs %d TCPSackRecovery %d TCPLossProbes %d TCPTimeouts %d TCPSpuriousRTOs %d"
                + " TCPDSACKRecv %d TCPLostRetransmit %d%n", what, counter(n, "TcpRetransSegs"), counter(n, "TcpExtTCPSackRecovery"),
                counter(n, "TcpExtTCPLossProbes"), counter(n, "TcpExtTCPTimeouts"), counter(n, "TcpExtTCPSpuriousRTOs"),
                counter(n, "TcpExtTCPDSACKRecv"), counter(n, "TcpExtTCPLostRetransmit"));
        assertTrue(what + ": segments retransmitted", counter(n, "TcpRetransSegs") > 0);
        assertTrue(what + ": SACK recovery or loss probes",
                counter(n, "TcpExtTCPSackRecovery") + counter(n, "TcpExtTCPLossProbes") > 0);
        for (String s : List.of(ns, peer)) {
            String c = sh(s, "nstat -az");
            long closing = counter(c, "TcpOutRsts") - resetsBeforeClose.get(s);
            if (closing != 0) {
                System.out.printf("TcpLossIT: %s: %d reset(s) sent in %s after the close, answering segments for a closed"
                        + " connection (TcpExtTWKilled on %s: %d)%n", what, closing, s, s.equals(ns) ? peer : ns,
                        counter(sh(s.equals(ns) ? peer : ns, "nstat -az"), "TcpExtTWKilled"));
            }
            assertEquals(what + ": resets sent in " + s + " before the close", 0L, (long) resetsBeforeClose.get(s));
            assertEquals(what + ": connections reset in " + s, 0, counter(c, "TcpEstabResets"));
        }
    }

    /** {@code ss -tin} in {@code ns} once it shows {@code text}, or fails after 10 s. */
    private String ssShows(String ns, String text) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        String ss = sh(ns, "ss -tin");
        while (!ss.contains(text) && System.nanoTime() < deadline) {
            Thread.sleep(50);
            ss = sh(ns, "ss -tin");
        }
        assertThat(ss, containsString(text));
        return ss;
    }

    private static String congestion(SocketCalls calls, int fd) {
        int[] w = new int[4];
        return TcpCongestion.name(w, check(calls.getsockopt(fd, SocketCalls.SOL_TCP, TcpCongestion.TCP_CONGESTION, w), "getsockopt"));
    }

    private <T> T unchecked(java.util.concurrent.Callable<T> c) {
        try {
            return c.call();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    public void renoCubicAndBbrEachCarryAStreamIntactThroughLossReorderingAndDuplicationBothWays() throws Exception {
        String[] algorithms = { "reno", "cubic", "bbr" };
        String[] shown = { " reno wscale:", " cubic wscale:", "bbr:(bw:" };
        int[] addr = new int[3];
        for (int k = 0; k < 3; k++) {
            addr[k] = lossyPair(k + 1, algorithms[k]);
        }
        long t0 = System.nanoTime();
        List<Transfer> transfers = new ArrayList<>();
        try {
            for (int k = 0; k < 3; k++) {
                transfers.add(start(k + 1, addr[k], BULK_MB << 20, null));
            }
            for (int k = 0; k < 3; k++) {
                ssShows("a" + (k + 1), shown[k]);
                assertThat(sh("b" + (k + 1), "ss -tin"), containsString(" " + algorithms[k] + " wscale:"));
            }
            for (int k = 0; k < 3; k++) {
                double s = transfers.get(k).check(algorithms[k], BULK_MB << 20);
                System.out.printf("TcpLossIT: %s: %d MB through %s both ways in %.1f s (%.1f Mbit/s)%n", algorithms[k],
                        BULK_MB, NETEM, s, (BULK_MB << 20) * 8 / s / 1e6);
            }
            for (int k = 0; k < 3; k++) {
                resetsSoFar("a" + (k + 1), "b" + (k + 1));
            }
        } catch (Exception | AssertionError e) {
            ModnetRuntime.printStalled(processor, "TcpLossIT", "a1", "b1", "a2", "b2", "a3", "b3");
            throw e;
        } finally {
            transfers.forEach(Transfer::close);
        }
        System.out.printf("TcpLossIT: the three at once in %.1f s%n", (System.nanoTime() - t0) / 1e9);
        for (int k = 0; k < 3; k++) {
            recoveredWithoutReset(algorithms[k], "a" + (k + 1), "b" + (k + 1));
        }
    }

    @Test
    public void switchingALiveConnectionFromCubicToRenoWithTcpCongestionKeepsTheTransferGoingAndIntact() throws Exception {
        int addr = lossyPair(1, "cubic");
        String[] before = new String[1];
        String[] after = new String[2];
        int[] refused = new int[1];
        Transfer[] t = new Transfer[1];
        t[0] = start(1, addr, SHORT_MB << 20, () -> unchecked(() -> {
            before[0] = ssShows("a1", " cubic wscale:");
            SocketCalls c = t[0].client();
            refused[0] = c.setsockopt(t[0].fd(), SocketCalls.SOL_TCP, TcpCongestion.TCP_CONGESTION, TcpCongestion.nameWords("bbr"));
            check(c.setsockopt(t[0].fd(), SocketCalls.SOL_TCP, TcpCongestion.TCP_CONGESTION, TcpCongestion.nameWords("reno")),
                    "setsockopt TCP_CONGESTION");
            after[0] = congestion(c, t[0].fd());
            after[1] = ssShows("a1", " reno wscale:");
            return null;
        }));
        try {
            double s = t[0].check("cubic then reno", SHORT_MB << 20);
            System.out.printf("TcpLossIT: cubic then reno: %d MB in %.1f s%n", SHORT_MB, s);
            resetsSoFar("a1", "b1");
        } catch (Exception | AssertionError e) {
            ModnetRuntime.printStalled(processor, "TcpLossIT", "a1", "b1");
            throw e;
        } finally {
            t[0].close();
        }
        assertEquals("bbr is not in tcp_allowed_congestion_control: EPERM, as Linux without CAP_NET_ADMIN",
                -org.modnet.api.net.Errno.EPERM.number(), refused[0]);
        assertThat(before[0], not(containsString("reno")));
        assertEquals("reno", after[0]);
        assertThat(after[1], not(containsString("cubic")));
        recoveredWithoutReset("cubic then reno", "a1", "b1");
    }

    @Test
    public void stoppingTheCubicBundleUnderATransferMovesItToTheDefaultAndKeepsItGoingAndIntact() throws Exception {
        int addr = lossyPair(1, "cubic");
        Bundle cubic = ModnetRuntime.bundleNamed(context, "org.modnet.tcp_cubic");
        long fallbacks = counter(sh("a1", "nstat -az"), "TcpExtTCPCongestionFallback");
        String[] seen = new String[3];
        Transfer t = start(1, addr, SHORT_MB << 20, () -> unchecked(() -> {
            seen[0] = ssShows("a1", " cubic wscale:");
            cubic.stop();
            seen[1] = ssShows("a1", " reno wscale:");
            seen[2] = sh("a1", "sysctl net.ipv4.tcp_congestion_control");
            return null;
        }));
        try {
            double s = t.check("cubic stopped", SHORT_MB << 20);
            System.out.printf("TcpLossIT: cubic stopped halfway: %d MB in %.1f s%n", SHORT_MB, s);
            resetsSoFar("a1", "b1");
        } catch (Exception | AssertionError e) {
            ModnetRuntime.printStalled(processor, "TcpLossIT", "a1", "b1");
            throw e;
        } finally {
            t.close();
        }
        assertEquals(Bundle.RESOLVED, cubic.getState());
        assertThat(seen[1], not(containsString("cubic")));
        assertThat("the default moved to reno with it", seen[2], containsString("= reno\n"));
        assertTrue("the sender's connection moved, counted",
                counter(sh("a1", "nstat -az"), "TcpExtTCPCongestionFallback") > fallbacks);
        assertThat(sh("a1", "sysctl net.ipv4.tcp_available_congestion_control"), not(containsString("cubic")));
        recoveredWithoutReset("cubic stopped", "a1", "b1");
    }
}
