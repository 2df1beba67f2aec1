package org.modnet.tcp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.modnet.socket.api.SocketCalls.AF_INET;
import static org.modnet.socket.api.SocketCalls.MSG_DONTWAIT;
import static org.modnet.socket.api.SocketCalls.SOCK_NONBLOCK;
import static org.modnet.socket.api.SocketCalls.SOCK_STREAM;
import static org.modnet.socket.api.SocketCalls.SOL_SOCKET;

import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.inet.InetChecksum;
import org.modnet.api.net.DeviceSetup;
import org.modnet.api.net.DeviceStats;
import org.modnet.api.net.Eth;
import org.modnet.api.net.IfAddress;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.NetdevFeatures;
import org.modnet.api.net.TxResult;
import org.modnet.api.skb.Checksum;
import org.modnet.api.skb.PktType;
import org.modnet.api.skb.SkBuff;
import org.modnet.drivers.veth.VethDriver;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SocketCalls;

/**
 * GRO ({@code napi_gro_receive}) with IPv4's and TCP's callbacks: crafted frames into one device's NAPI
 * instance, what a tap (after GRO, as Linux's taps are) and TCP then see; and a bulk transfer over a
 * veth pair whose sender cuts MSS frames, with far fewer skbs reaching TCP than frames on the wire.
 */
class TcpGroTest {
    private static final int SRC = 0x0a000001;
    private static final int DST = 0x0a000002;

    private final TcpStack s = new TcpStack();
    private NetDevice g0;
    /** What the tap saw come in on g0: {len, gso_segs, gso_size, tcp flags, seq, tot_len, ip checksum good, source port}. */
    private final List<int[]> seen = new ArrayList<>();

    @AfterEach
    void tearDown() {
        s.close();
    }

    private void device(boolean gro) throws Exception {
        g0 = s.ns.register(DeviceSetup.ether("g0", "test").withFeatures(Map.of("generic-receive-offload", gro), Set.of()),
                (skb, d) -> {
                    skb.free();
                    return TxResult.OK;
                });
        g0.addAddress(new IfAddress(InetAddress.getByName("10.0.0.2"), 24, InetAddress.getByName("10.0.0.255"), "global", "g0"));
        g0.open();
        s.stack.addHandler(Eth.ETH_P_ALL, (skb, dev) -> {
            if (dev == g0 && skb.pktType() == PktType.HOST && skb.protocol() == Eth.ETH_P_IP) {
                int nh = skb.data(); // taps get the frame at its network header
                int ihl = skb.headLen() < 20 ? 0 : (skb.getU8(nh) & 0xf) * 4;
                int th = nh + ihl;
                if (ihl < 20 || th + 20 > skb.tail()) { // a malformed header: what fits only
                    seen.add(new int[] { skb.len(), skb.gsoSegs(), skb.gsoSize(), -1, -1, -1, -1, -1 });
                    skb.free();
                    return;
                }
                seen.add(new int[] { skb.len(), skb.gsoSegs(), skb.gsoSize(), skb.getU8(th + 13), skb.getU32(th + 4),
                        skb.getU16(nh + 2), InetChecksum.verify(skb, nh, (skb.getU8(nh) & 0xf) * 4) ? 1 : 0, skb.getU16(th) });
            }
            skb.free();
        });
    }

    /** A frame to g0 from 10.0.0.1: {@code optWords} words of IP options (NOPs), {@code len} bytes of payload. */
    private SkBuff frame(int sport, int seq, int id, int flags, int len, int optWords) {
        int ihl = 20 + optWords * 4;
        int tot = ihl + 20 + len;
        SkBuff skb = s.stack.core().allocSkb(14 + tot, 64);
        int o = skb.put(14 + tot);
        skb.setBytes(o, g0.address().bytes(), 0, 6);
        skb.setBytes(o + 6, new byte[] { 2, 0, 0, 0, 0, 1 }, 0, 6);
        skb.setU16(o + 12, Eth.ETH_P_IP);
        int nh = o + 14;
        skb.setU8(nh, 0x40 | (ihl / 4));
        skb.setU8(nh + 1, 0);
        skb.setU16(nh + 2, tot);
        skb.setU16(nh + 4, id);
        skb.setU16(nh + 6, 0x4000);
        skb.setU8(nh + 8, 64);
        skb.setU8(nh + 9, 6);
        skb.setU16(nh + 10, 0);
        skb.setU32(nh + 12, SRC);
        skb.setU32(nh + 16, DST);
        for (int i = 20; i < ihl; i++) {
            skb.setU8(nh + i, 1);
        }
        skb.setU16(nh + 10, InetChecksum.checksum(skb, nh, ihl));
        int th = nh + ihl;
        skb.setU16(th, sport);
        skb.setU16(th + 2, 5001);
        skb.setU32(th + 4, seq);
        skb.setU32(th + 8, 77);
        skb.setU8(th + 12, 5 << 4);
        skb.setU8(th + 13, flags);
        skb.setU16(th + 14, 1000);
        skb.setU32(th + 16, 0);
        for (int i = 0; i < len; i++) {
            skb.setU8(th + 20 + i, (seq + i) * 31);
        }
        TcpHeader.setChecksum(skb, th, 20 + len, TcpAf.inetPseudoSum(SRC, DST, 20 + len));
        skb.ipSummed(Checksum.NONE);
        return skb;
    }

    private static final int ACK = TcpHeader.ACK;

    private void in(SkBuff... frames) {
        for (SkBuff f : frames) {
            assertTrue(g0.rxQueue(0).receive(f));
        }
        s.run();
    }

    private long inSegs() {
        return s.tcp.net(s.ns).mib.get(TcpMib.Tcp.InSegs);
    }

    @Test
    void inOrderSegmentsGoUpAsOneGsoSkbWithItsOwnLengthAndChecksum() throws Exception {
        device(true);
        long before = inSegs();
        in(frame(1000, 0, 10, ACK, 1000, 0), frame(1000, 1000, 11, ACK, 1000, 0), frame(1000, 2000, 12, ACK, 1000, 0),
                frame(1000, 3000, 13, ACK, 1000, 0), frame(1000, 4000, 14, ACK | TcpHeader.PSH, 1000, 0));
        assertEquals(1, seen.size(), "one skb for five frames");
        int[] m = seen.get(0);
        assertEquals(5, m[1], "gso_segs");
        assertEquals(1000, m[2], "gso_size");
        assertEquals(40 + 5000, m[5], "the IPv4 total length of the merged packet");
        assertTrue(m[0] > g0.mtu(), "a tap (tcpdump) sees the merged packet, longer than the MTU: " + m[0]);
        assertEquals(1, m[6], "its header checksum made again");
        assertEquals(ACK | TcpHeader.PSH, m[3], "the last frame's PSH on the merged header");
        assertEquals(1, inSegs() - before, "TCP took one segment");
        assertEquals(5, g0.stats().get(DeviceStats.Field.RX_PACKETS), "the device counts frames");
        assertEquals(4L, g0.ethtoolStats().get("rx_queue_0_gro_merged"), "ethtool -S: frames merged");
        assertEquals(1L, g0.ethtoolStats().get("rx_queue_0_gro_skbs"), "and the skbs they went up in");
    }

    @Test
    void aGapPshAnotherFlowAndOutOfOrderEachEndAMerge() throws Exception {
        device(true);
        // a gap after two: two skbs
        in(frame(1000, 0, 1, ACK, 1000, 0), frame(1000, 1000, 2, ACK, 1000, 0), frame(1000, 3000, 3, ACK, 1000, 0));
        assertEquals(List.of(2, 1), segs());
        seen.clear();
        // PSH on the second: the flow goes up at once, the third alone
        in(frame(1000, 0, 1, ACK, 1000, 0), frame(1000, 1000, 2, ACK | TcpHeader.PSH, 1000, 0), frame(1000, 2000, 3, ACK, 1000, 0));
        assertEquals(List.of(2, 1), segs());
        seen.clear();
        // two flows interleaved: each merged on its own
        in(frame(1000, 0, 1, ACK, 1000, 0), frame(2000, 0, 1, ACK, 1000, 0), frame(1000, 1000, 2, ACK, 1000, 0),
                frame(2000, 1000, 2, ACK, 1000, 0));
        assertEquals(List.of(2, 2), segs());
        seen.clear();
        // out of order: nothing merges
        in(frame(1000, 1000, 1, ACK, 1000, 0), frame(1000, 0, 2, ACK, 1000, 0), frame(1000, 2000, 3, ACK, 1000, 0));
        assertEquals(List.of(1, 1, 1), segs());
        seen.clear();
        // a larger segment than the first: the flow ends before it
        in(frame(1000, 0, 1, ACK, 500, 0), frame(1000, 500, 2, ACK, 1000, 0));
        assertEquals(List.of(1, 1), segs());
    }

    @Test
    void ipOptionsABadChecksumAndAPureAckTakeNoPart() throws Exception {
        device(true);
        in(frame(1000, 0, 1, ACK, 1000, 1), frame(1000, 1000, 2, ACK, 1000, 1), frame(1000, 2000, 3, ACK, 1000, 1));
        assertEquals(List.of(1, 1, 1), segs(), "IP options: one skb a frame");
        seen.clear();
        long errors = s.tcp.net(s.ns).mib.get(TcpMib.Tcp.InCsumErrors);
        SkBuff bad = frame(1000, 1000, 2, ACK, 1000, 0);
        bad.setU8(bad.tail() - 1, bad.getU8(bad.tail() - 1) ^ 0xff);
        in(frame(1000, 0, 1, ACK, 1000, 0), bad, frame(1000, 1000, 2, ACK, 1000, 0));
        assertEquals(List.of(1, 2), segs(), "a bad checksum: it goes up alone at once, the held flow stays and takes the good copy");
        assertEquals(1000, seen.get(0)[4], "the bad one first");
        assertEquals(errors + 1, s.tcp.net(s.ns).mib.get(TcpMib.Tcp.InCsumErrors), "and TCP drops it as bad");
        seen.clear();
        in(frame(1000, 0, 1, ACK, 0, 0), frame(1000, 0, 2, ACK, 0, 0));
        assertEquals(List.of(1, 1), segs(), "pure ACKs are not held");
    }

    /** The frame with its IPv4 total length {@code pad} bytes short of it (the rest padding), both checksums made for the shorter packet. */
    private static SkBuff padded(SkBuff f, int pad) {
        int nh = f.data() + 14;
        int tot = f.getU16(nh + 2) - pad;
        f.setU16(nh + 2, tot);
        ipChecksum(f, nh, 20);
        TcpHeader.setChecksum(f, nh + 20, tot - 20, TcpAf.inetPseudoSum(SRC, DST, tot - 20));
        return f;
    }

    /**
     * {@code dev_gro_receive} with two flows held in one bucket: a frame IPv4 or TCP refuse before looking
     * for its flow ({@code inet_gro_receive}'s bad header checksum or options, {@code tcp4_gro_receive}'s
     * bad checksum) goes up alone at once and both flows stay held, each merging its next frame; one
     * whose flow they look for but which never merges (RST, a pure ACK, a packet shorter than its frame,
     * IPv4's flush) sends its own flow up before it, and only that one.
     */
    @Test
    void aRefusedFrameSendsUpItsOwnFlowAtMost() throws Exception {
        device(true);
        for (String what : List.of("a bad IPv4 header checksum", "IP options", "a bad TCP checksum")) {
            seen.clear();
            SkBuff bad = frame(2000, 1000, 2, ACK, 1000, what.equals("IP options") ? 1 : 0);
            if (what.equals("a bad IPv4 header checksum")) {
                bad.setU16(bad.data() + 14 + 10, bad.getU16(bad.data() + 14 + 10) ^ 0x0101);
            } else if (what.equals("a bad TCP checksum")) {
                bad.setU8(bad.tail() - 1, bad.getU8(bad.tail() - 1) ^ 0xff);
            }
            in(frame(1000, 0, 1, ACK, 1000, 0), frame(2000, 0, 1, ACK, 1000, 0), bad, frame(1000, 1000, 2, ACK, 1000, 0),
                    frame(2000, 1000, 2, ACK, 1000, 0));
            assertEquals(List.of(1, 2, 2), segs(), what + ": up alone, both flows held still and merged");
            assertEquals(2000, seen.get(0)[7], what + ": it went up first");
            assertEquals(0, seen.get(0)[1], what + ": unmerged");
        }
        for (String what : List.of("an RST", "a pure ACK", "a packet shorter than its frame")) {
            seen.clear();
            SkBuff f = switch (what) {
                case "an RST" -> frame(2000, 1000, 2, ACK | TcpHeader.RST, 0, 0);
                case "a pure ACK" -> frame(2000, 1000, 2, ACK, 0, 0);
                default -> padded(frame(2000, 1000, 2, ACK, 1000, 0), 6); // continues flow 2000, but padded
            };
            in(frame(1000, 0, 1, ACK, 1000, 0), frame(2000, 0, 1, ACK, 1000, 0), f, frame(1000, 1000, 2, ACK, 1000, 0));
            assertEquals(List.of(1, 1, 2), segs(), what + ": its flow, it, then the other flow merged");
            assertEquals(List.of(2000, 2000, 1000), seen.stream().map(m -> m[7]).toList(), what);
            assertEquals(0, seen.get(1)[1], what + ": unmerged");
        }
    }

    /**
     * The frame copied into a buffer that ends where its first {@code n} bytes do (a frame the link cut
     * short when {@code n} is less than its length): a read past it throws.
     */
    private SkBuff tight(SkBuff f, int n) {
        int size = Math.max(org.modnet.api.skb.SkBuffPool.NET_SKB_PAD + 64, org.modnet.api.skb.SkBuffPool.NET_SKB_PAD + n);
        SkBuff t = new org.modnet.api.skb.SkBuffPool(1, size).alloc(n, size - n);
        int at = t.put(n);
        java.lang.foreign.MemorySegment.copy(f.memory(), f.data(), t.memory(), at, n);
        assertEquals(t.tail(), t.end(), "nothing after the frame");
        t.ipSummed(f.ipSummed());
        f.free();
        return t;
    }

    /** IPv4's header checksum made again after a change to the header at {@code nh} ({@code ihl} bytes). */
    private static void ipChecksum(SkBuff skb, int nh, int ihl) {
        skb.setU16(nh + 10, 0);
        skb.setU16(nh + 10, InetChecksum.checksum(skb, nh, Math.min(ihl, skb.tail() - nh)));
    }

    private long ip(String counter) {
        return s.ipv4.counters(s.ns).get(counter);
    }

    private long tcp(TcpMib.Tcp counter) {
        return s.tcp.net(s.ns).mib.get(counter);
    }

    /**
     * Malformed IPv4 and TCP headers between two frames of a held flow, each in a buffer that ends with
     * it (a read past the frame would throw: GRO has no catch): GRO's bounds checks refuse each, so it
     * goes up alone, unmerged and without a throw, and the receive path drops it under the counter it
     * uses without GRO (ip_rcv_core's IpInHdrErrors and IpExtInTruncatedPkts, tcp_v4_rcv's InErrs, or
     * InSegs alone for options past the end), as {@code inet_gro_receive}/{@code tcp_gro_receive}
     * leave such a frame to the normal path: at once, the held flow left held, where a header check
     * fails, and after its flow where only the total length is wrong.
     */
    @Test
    void malformedHeadersGoUpUnmergedAndAreCountedByTheReceivePath() throws Exception {
        device(true);
        record Bad(String what, SkBuff frame, String ipCounter, TcpMib.Tcp tcpCounter) {
        }
        java.util.List<java.util.function.Supplier<Bad>> cases = new ArrayList<>();
        cases.add(() -> { // IHL 4: a header shorter than IPv4's
            SkBuff f = frame(1000, 1000, 2, ACK, 1000, 0);
            f.setU8(f.data() + 14, 0x44);
            ipChecksum(f, f.data() + 14, 20);
            return new Bad("IHL < 5", tight(f, f.len()), "IpInHdrErrors", null);
        });
        cases.add(() -> { // IHL 15 in a 40-byte packet: options running past its end (and the frame's)
            SkBuff f = frame(1000, 1000, 2, ACK, 0, 0);
            f.setU8(f.data() + 14, 0x4f);
            ipChecksum(f, f.data() + 14, 60);
            return new Bad("IP options past the end", tight(f, f.len()), "IpInHdrErrors", null);
        });
        cases.add(() -> { // the total length says 100 bytes more than the frame holds
            SkBuff f = frame(1000, 1000, 2, ACK, 1000, 0);
            f.setU16(f.data() + 14 + 2, 20 + 20 + 1000 + 100);
            ipChecksum(f, f.data() + 14, 20);
            return new Bad("total length beyond the frame", tight(f, f.len()), "IpExtInTruncatedPkts", null);
        });
        cases.add(() -> { // the link cut the frame 10 bytes into the IPv4 header
            SkBuff f = frame(1000, 1000, 2, ACK, 1000, 0);
            return new Bad("a frame cut in the IPv4 header", tight(f, 14 + 10), "IpInHdrErrors", null);
        });
        cases.add(() -> { // data offset 4: a TCP header shorter than TCP's
            SkBuff f = frame(1000, 1000, 2, ACK, 1000, 0);
            int th = f.data() + 14 + 20;
            f.setU8(th + 12, 4 << 4);
            return new Bad("doff < 5", tight(f, f.len()), null, TcpMib.Tcp.InErrs);
        });
        cases.add(() -> { // data offset 15 in a 20-byte segment: options running past the end
            SkBuff f = frame(1000, 1000, 2, ACK, 0, 0);
            int th = f.data() + 14 + 20;
            f.setU8(th + 12, 15 << 4);
            return new Bad("TCP options past the end", tight(f, f.len()), null, null);
        });
        for (java.util.function.Supplier<Bad> c : cases) {
            seen.clear();
            Bad bad = c.get();
            long ipBefore = bad.ipCounter() == null ? 0 : ip(bad.ipCounter());
            long tcpBefore = bad.tcpCounter() == null ? 0 : tcp(bad.tcpCounter());
            long inSegs = inSegs();
            long merged = g0.ethtoolStats().get("rx_queue_0_gro_merged");
            int badLen = bad.frame().len() - 14;
            // a total length beyond the frame passes IPv4's header checks: its flow is looked for (inet_gro_receive's
            // flush); the others fail them, or TCP's (the header, the checksum), before any flow is
            boolean flowLookedFor = bad.what().equals("total length beyond the frame");
            in(frame(1000, 0, 1, ACK, 1000, 0), bad.frame(), frame(1000, 1000, 2, ACK, 1000, 0));
            assertEquals(flowLookedFor ? 3 : 2, seen.size(), bad.what());
            int[] up = seen.get(flowLookedFor ? 1 : 0);
            assertEquals(badLen, up[0], bad.what() + ": the frame went up");
            assertEquals(0, up[1], bad.what() + ": it went up unmerged (no gso_segs)");
            if (!flowLookedFor) {
                // up alone at once: the held flow stays and takes its next frame
                assertEquals(List.of(1, 2), segs(), bad.what());
                assertEquals(merged + 1, g0.ethtoolStats().get("rx_queue_0_gro_merged"), bad.what());
            } else {
                // its flow goes up before it, in order, and the next frame starts anew
                assertEquals(List.of(1, 1, 1), segs(), bad.what());
                assertEquals(merged, g0.ethtoolStats().get("rx_queue_0_gro_merged"), bad.what() + ": nothing merged");
            }
            int good = flowLookedFor ? 2 : 1; // the skbs of the good frames
            if (bad.ipCounter() != null) {
                assertEquals(ipBefore + 1, ip(bad.ipCounter()), bad.what() + ": " + bad.ipCounter());
                assertEquals(inSegs + good, inSegs(), bad.what() + ": IPv4 dropped it before TCP");
            } else {
                assertEquals(inSegs + good + 1, inSegs(), bad.what() + ": TCP counts every segment it gets, bad or not");
            }
            if (bad.tcpCounter() != null) {
                assertEquals(tcpBefore + 1, tcp(bad.tcpCounter()), bad.what() + ": " + bad.tcpCounter());
            }
        }
    }

    @Test
    void heldFlowsGoUpAtTheEndOfEachPoll() throws Exception {
        device(true);
        in(frame(1000, 0, 1, ACK, 1000, 0), frame(1000, 1000, 2, ACK, 1000, 0));
        assertEquals(List.of(2), segs());
        in(frame(1000, 2000, 3, ACK, 1000, 0), frame(1000, 3000, 4, ACK, 1000, 0));
        assertEquals(List.of(2, 2), segs(), "the next poll starts its own");
    }

    @Test
    void aFullBucketSendsItsOldestFlowUp() throws Exception {
        device(true);
        SkBuff[] f = new SkBuff[10];
        for (int i = 0; i < 9; i++) {
            f[i] = frame(1000 + i, 0, 1, ACK, 1000, 0); // one bucket (no hash): eight flows at most
        }
        f[9] = frame(1000, 1000, 2, ACK, 1000, 0); // the first flow's next: it went up when the ninth came
        in(f);
        assertEquals(10, seen.size());
        assertTrue(segs().stream().allMatch(n -> n == 1), "nothing merged: " + segs());
        assertEquals(2L, g0.ethtoolStats().get("rx_queue_0_gro_flush_full"), "the ninth flow and the first's next each pushed one out");
        assertEquals(0L, g0.ethtoolStats().get("rx_queue_0_gro_merged"));
        assertEquals(1000, seen.get(0)[7], "the oldest went first, in the poll");
    }

    @Test
    void groOffGivesOneSkbAFrame() throws Exception {
        device(false);
        long before = inSegs();
        in(frame(1000, 0, 1, ACK, 1000, 0), frame(1000, 1000, 2, ACK, 1000, 0), frame(1000, 2000, 3, ACK, 1000, 0));
        assertEquals(List.of(1, 1, 1), segs());
        assertEquals(3, inSegs() - before);
        seen.clear();
        g0.setFeature("generic-receive-offload", true); // ethtool -K g0 gro on
        in(frame(1000, 0, 1, ACK, 1000, 0), frame(1000, 1000, 2, ACK, 1000, 0), frame(1000, 2000, 3, ACK, 1000, 0));
        assertEquals(List.of(3), segs());
    }

    /**
     * {@code gro_flush_timeout}: {@code napi_complete_done} keeps a flow held past the poll (it is of this
     * jiffy) and the watchdog, {@code gro_flush_timeout} later, sends it up; so a flow's frames that come
     * in two polls merge into one skb, where without the timeout each poll's go up apart.
     */
    @Test
    void groFlushTimeoutHoldsAFlowAcrossPollsUntilTheWatchdog() throws Exception {
        device(true);
        in(frame(1000, 0, 1, ACK, 1000, 0), frame(1000, 1000, 2, ACK, 1000, 0));
        in(frame(1000, 2000, 3, ACK, 1000, 0), frame(1000, 3000, 4, ACK, 1000, 0));
        assertEquals(List.of(2, 2), segs(), "no timeout: each poll's frames go up at its end");
        assertEquals(0L, g0.ethtoolStats().get("rx_queue_0_gro_held_over"));

        seen.clear();
        g0.setGroFlushTimeout(200_000); // echo 200000 > /sys/class/net/g0/gro_flush_timeout
        long before = inSegs();
        in(frame(1000, 4000, 5, ACK, 1000, 0), frame(1000, 5000, 6, ACK, 1000, 0));
        assertEquals(List.of(), segs(), "held past the poll");
        in(frame(1000, 6000, 7, ACK, 1000, 0), frame(1000, 7000, 8, ACK, 1000, 0));
        assertEquals(List.of(), segs(), "the second poll's frames joined the held flow, which is held again");
        assertEquals(2L, g0.ethtoolStats().get("rx_queue_0_gro_held_over"), "kept by both completions");
        s.advance(1); // the watchdog fires 200 us later: its poll finds nothing and its completion flushes
        assertEquals(List.of(4), segs(), "two polls' frames, one skb");
        assertEquals(4000, seen.get(0)[4], "from the first held frame");
        assertEquals(1, inSegs() - before, "TCP took one segment");

        // a lone flow: held, and sent up by the watchdog with nothing after it; nothing stays held
        seen.clear();
        in(frame(1000, 8000, 9, ACK, 1000, 0), frame(1000, 9000, 10, ACK, 1000, 0));
        assertEquals(List.of(), segs());
        s.advance(1);
        assertEquals(List.of(2), segs(), "the watchdog's completion sent the held flow up");

        // with napi_defer_hard_irqs the interrupt stays off too: the next frames wait for the watchdog's poll,
        // here a jiffy later, which merges them and sends the flow up for its age (napi_gro_flush's flush_old)
        seen.clear();
        g0.setNapiDeferHardIrqs(2);
        long old = g0.ethtoolStats().get("rx_queue_0_gro_flush_old");
        in(frame(1000, 10000, 11, ACK, 1000, 0), frame(1000, 11000, 12, ACK, 1000, 0));
        in(frame(1000, 12000, 13, ACK, 1000, 0));
        assertEquals(List.of(), segs(), "held, and the third frame waits in the ring with the interrupt deferred");
        s.advance((1000 + org.modnet.api.net.Jiffies.HZ - 1) / org.modnet.api.net.Jiffies.HZ); // a jiffy on, in one step
        assertEquals(List.of(3), segs());
        assertEquals(old + 1, g0.ethtoolStats().get("rx_queue_0_gro_flush_old"), "sent up for its age, from the jiffy before");
        s.advance(10);
        assertEquals(List.of(3), segs());
    }

    /**
     * {@code ip link set g0 down} with a flow held past its poll ({@code gro_flush_timeout}): as a veth's
     * close deletes its NAPI instances ({@code napi_disable}, then {@code __netif_napi_del}'s
     * {@code flush_gro_hash}), the held flow is freed, not sent up, and counted; the watchdog's time
     * passes with nothing going up, and nothing stays held: up again, the next frames make their own flow.
     */
    @Test
    void aHeldFlowIsFreedNotSentUpWhenTheDeviceGoesDown() throws Exception {
        device(true);
        g0.setGroFlushTimeout(200_000);
        long before = inSegs();
        in(frame(1000, 0, 1, ACK, 1000, 0), frame(1000, 1000, 2, ACK, 1000, 0));
        assertEquals(List.of(), segs(), "held past the poll");
        g0.close(); // ip link set g0 down
        s.advance(1); // the watchdog's time
        s.advance(10);
        assertEquals(List.of(), segs(), "never sent up");
        assertEquals(before, inSegs(), "TCP got nothing");
        assertEquals(1L, g0.ethtoolStats().get("rx_queue_0_gro_freed"), "freed with the NAPI instance");
        g0.open();
        g0.setGroFlushTimeout(0);
        in(frame(1000, 2000, 3, ACK, 1000, 0), frame(1000, 3000, 4, ACK, 1000, 0));
        assertEquals(List.of(2), segs());
        assertEquals(2000, seen.get(0)[4], "a flow of their own: the one held before the close is gone");
        assertEquals(1L, g0.ethtoolStats().get("rx_queue_0_gro_freed"));
    }

    /** gso_segs of each skb seen, 1 for one that went up as it came. */
    private List<Integer> segs() {
        return seen.stream().map(m -> Math.max(1, m[1])).toList();
    }

    // --- a bulk transfer over a veth pair ---

    private static void address(NetDevice d, String ip) throws Exception {
        d.addAddress(new IfAddress(InetAddress.getByName(ip), 24, InetAddress.getByName("10.0.0.255"), "global", d.name()));
        d.open();
    }

    /** 2 MB from A to B over va-vb, va cutting MSS frames (tso, gso off); {frames vb took, skbs B's TCP took}. */
    private long[] bulk(boolean gro) throws Exception {
        return bulk(gro, null, false);
    }

    /** {@link #bulk(boolean)} with an XDP program on vb, generic or native. */
    private long[] bulk(boolean gro, org.modnet.api.net.XdpHook xdp, boolean nativeXdp) throws Exception {
        NetNamespace nb = s.stack.core().addNamespace("B");
        NetDevice va = new VethDriver().create(s.ns, "va", List.of("peer", "name", "vb"));
        NetDevice vb = s.ns.device("vb");
        vb.setNamespace(nb);
        va.setFeature("tcp-segmentation-offload", false);
        va.setFeature("generic-segmentation-offload", false);
        vb.setFeature("generic-receive-offload", gro);
        if (xdp != null) {
            vb.setXdp(xdp, nativeXdp);
        }
        address(va, "10.0.0.1");
        address(vb, "10.0.0.2");
        SocketCalls sa = s.process();
        SocketCalls sb = s.sockets.process("test", "B");
        int l = sb.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assertEquals(0, sb.bind(l, new SockAddr(DST, 5001)));
        assertEquals(0, sb.listen(l, 8));
        int c = sa.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assertEquals(0, sa.setsockopt(c, SOL_SOCKET, SocketCalls.SO_SNDBUF, 1 << 20));
        sa.connect(c, new SockAddr(DST, 5001));
        s.run();
        int srv = sb.accept(l, null, SOCK_NONBLOCK);
        assertTrue(srv >= 3);
        long frames0 = vb.stats().get(DeviceStats.Field.RX_PACKETS);
        long segs0 = s.tcp.net(nb).mib.get(TcpMib.Tcp.InSegs);
        byte[] data = new byte[2 << 20];
        new Random(19).nextBytes(data);
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        ByteBuffer buf = ByteBuffer.allocate(1 << 16);
        int sent = 0;
        for (int round = 0; round < 5000 && got.size() < data.length; round++) {
            if (sent < data.length) {
                int n = sa.send(c, ByteBuffer.wrap(data, sent, data.length - sent), MSG_DONTWAIT);
                if (n > 0) {
                    sent += n;
                }
            }
            s.run();
            int r;
            while ((r = sb.recv(srv, buf.clear(), MSG_DONTWAIT)) > 0) {
                got.write(buf.array(), 0, r);
            }
            s.advance(1);
        }
        assertArrayEquals(data, got.toByteArray(), "the bytes arrive intact");
        sa.close();
        sb.close();
        System.out.println("GRO " + (gro ? "on" : "off") + ": " + (vb.stats().get(DeviceStats.Field.RX_PACKETS) - frames0)
                + " frames on vb, " + (s.tcp.net(nb).mib.get(TcpMib.Tcp.InSegs) - segs0) + " skbs into B's TCP (InSegs), "
                + vb.ethtoolStats().get("rx_queue_0_gro_merged") + " merged");
        return new long[] { vb.stats().get(DeviceStats.Field.RX_PACKETS) - frames0, s.tcp.net(nb).mib.get(TcpMib.Tcp.InSegs) - segs0 };
    }

    @Test
    void aBulkTransferOverAVethReachesTcpInFarFewerSkbsThanFrames() throws Exception {
        long[] n = bulk(true);
        assertTrue(n[0] > 1400, "MSS frames on the wire: " + n[0]);
        assertTrue(n[1] * 4 < n[0], "skbs reaching TCP (" + n[1] + ") a quarter of the frames (" + n[0] + ") at most");
    }

    /** An XDP program that passes everything and notes the IPv4 packets it saw: how many, and the longest. */
    private static final class Counting implements org.modnet.api.net.XdpHook {
        long packets;
        int longest;

        private void saw(int len, int ethertype) {
            if (ethertype == Eth.ETH_P_IP) {
                packets++;
                longest = Math.max(longest, len);
            }
        }

        @Override
        public int run(SkBuff skb, NetDevice dev, int rxQueue) {
            saw(skb.len(), skb.getU16(skb.data() + 12)); // from the MAC header, as a program's ctx->data
            return XDP_PASS;
        }

        @Override
        public long runFrame(java.lang.foreign.MemorySegment buffer, int data, int len, NetDevice dev, int rxQueue) {
            saw(len, Short.toUnsignedInt(buffer.get(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED
                    .withOrder(java.nio.ByteOrder.BIG_ENDIAN), data + 12)));
            return org.modnet.api.net.XdpHook.frameResult(XDP_PASS, data, len);
        }

        @Override
        public String describe() {
            return "counting";
        }
    }

    /**
     * Generic XDP runs where Linux's does, in {@code __netif_receive_skb_core} on what GRO hands up: a
     * program on vb with GRO on sees the merged packets (longer than the MTU), as many as the skbs TCP
     * takes and far fewer than the frames, and {@code xdp_pass} counts those; native XDP, in the driver
     * before any skb, still sees every frame.
     */
    @Test
    void genericXdpSeesWhatGroMergedAndNativeXdpEveryFrame() throws Exception {
        Counting generic = new Counting();
        long[] n = bulk(true, generic, false);
        NetDevice vb = s.stack.core().namespace("B").device("vb");
        System.out.println("generic XDP after GRO: " + generic.packets + " packets seen (longest " + generic.longest + "), xdp_pass "
                + vb.ethtoolStats().get("xdp_pass") + ", for " + n[0] + " frames");
        assertTrue(n[0] > 1400, "MSS frames on the wire: " + n[0]);
        assertTrue(generic.packets * 4 < n[0], "the program saw " + generic.packets + " packets for " + n[0] + " frames");
        assertTrue(generic.packets >= n[1], "every skb TCP took passed the program: " + generic.packets + ", " + n[1]);
        assertTrue(generic.longest > 1514, "a merged packet, longer than a frame: " + generic.longest);
        assertTrue(vb.ethtoolStats().get("xdp_pass") * 4 < n[0], "xdp_pass counts packets, not frames: " + vb.ethtoolStats().get("xdp_pass"));
    }

    @Test
    void nativeXdpStillSeesEveryFrameWithGroOn() throws Exception {
        Counting nativeProg = new Counting();
        long[] n = bulk(true, nativeProg, true);
        System.out.println("native XDP: " + nativeProg.packets + " frames seen (longest " + nativeProg.longest + ")");
        assertTrue(nativeProg.packets >= n[0] - 2, "the driver's program saw every frame: " + nativeProg.packets + " of " + n[0]);
        assertTrue(nativeProg.longest <= 1514, "frames, none longer than the MTU's: " + nativeProg.longest);
        assertTrue(n[1] * 4 < n[0], "GRO still merged after it: " + n[1] + " skbs");
    }

    @Test
    void withGroOffEveryFrameReachesTcp() throws Exception {
        long[] n = bulk(false);
        assertTrue(n[1] >= n[0] - 2, "skbs reaching TCP (" + n[1] + ") one a frame (" + n[0] + ")");
    }
}
