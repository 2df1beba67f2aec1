package org.modnet.fuzz;

import java.net.InetAddress;
import java.util.EnumMap;
import java.util.Map;

import org.modnet.api.inet.InetProtocol;
import org.modnet.api.inet.NudState;
import org.modnet.api.net.DeviceSetup;
import org.modnet.api.net.DeviceStats;
import org.modnet.api.net.Eth;
import org.modnet.api.net.IfAddress;
import org.modnet.api.net.MacAddress;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.TxResult;
import org.modnet.api.skb.SkBuff;
import org.modnet.api.skb.SkBuffPool;
import org.modnet.core.StandaloneCore;
import org.modnet.drivers.loopback.Loopback;
import org.modnet.ethernet.ArpProtocol;
import org.modnet.ipv4.Ipv4Protocol;
import org.modnet.udp.UdpProtocol;

/**
 * Frames into a namespace's receive path: a standalone core (no OSGi) with lo, ARP, IPv4 (options,
 * reassembly, ICMP) and UDP, and one Ethernet device, eth0 10.0.0.1/24, whose transmissions go to a
 * sink. One input is up to 64 frames; each has a control byte that can make it more likely to go deep
 * (our MAC, the IPv4 or ARP ethertype, our address, good IP and transport checksums), the rest is
 * the fuzzer's. The frames go in as given and then in three variants, each with one byte changed.
 *
 * <p>After each input the softirq has run and the invariants are checked: nothing threw; every frame
 * is on exactly one counter, level by level (the device's, then the ethertype handlers', then IP's,
 * then the transports'). Every 64 inputs the clock is moved on past every timer (ARP retries,
 * reassembly timeouts) and the pool must be back to empty (the skb leak checker is on: a leak names
 * where the buffer was taken); every 1024 inputs, and at the end, the stack must still answer a ping.
 */
public final class FrameFuzzer {
    static final int LOCAL = 0x0a000001;
    static final int PEER = 0x0a000002;
    static final MacAddress PEER_MAC = MacAddress.parse("02:00:00:00:00:02");
    static final int MAX_FRAMES = 64;
    /** Each input's frames go in this many times: as given, then with one byte changed. */
    static final int ROUNDS = 4;

    private static Stack stack;
    private static long inputs;
    private static long frames;

    /** The stack under test and the sink of what it sends. */
    static final class Stack {
        long now = 1_000_000_000L;
        final StandaloneCore core = StandaloneCore.manual(1, 4096, () -> now);
        final SkBuffPool pool = core.core().pool();
        final Ipv4Protocol ipv4;
        final UdpProtocol udp;
        final NetNamespace ns;
        final NetDevice eth0;
        long sent;
        int lastEchoReplySeq = -1;
        private int pingSeq;

        Stack() {
            try {
                pool.setLeakCheck(!Boolean.getBoolean("modnet.fuzz.noleakcheck"));
                ArpProtocol arp = new ArpProtocol(core.core());
                ipv4 = new Ipv4Protocol(core.core(), arp);
                udp = new UdpProtocol(ipv4);
                core.addPernet(new Loopback(), 0);
                core.addPernet(arp, 5);
                core.addPernet(ipv4, 10);
                core.addPernet(udp, 20);
                core.addHandler(Eth.ETH_P_ARP, arp);
                core.addHandler(Eth.ETH_P_IP, ipv4);
                ipv4.addProtocol(udp, Map.of(InetProtocol.PROTOCOL, 17));
                ns = core.core().initNet();
                eth0 = ns.register(DeviceSetup.ether("eth0", "fuzz"), (skb, d) -> {
                    sink(skb);
                    d.stats().inc(DeviceStats.Field.TX_PACKETS);
                    skb.free();
                    return TxResult.OK;
                });
                eth0.addAddress(new IfAddress(InetAddress.getByName("10.0.0.1"), 24, null, "global", "eth0"));
                eth0.open();
                arp.add(eth0, PEER, PEER_MAC, NudState.PERMANENT, false);
            } catch (Exception e) {
                throw new IllegalStateException("the stack under test could not be set up", e);
            }
        }

        /** Notes an ICMP echo reply (to the peer) the stack sent. */
        private void sink(SkBuff skb) {
            sent++;
            int o = skb.data();
            if (skb.len() >= 14 + 28 && skb.getU16(o + 12) == Eth.ETH_P_IP && skb.getU8(o + 14 + 9) == 1
                    && skb.getU8(o + 14 + 20) == 0 && skb.getU16(o + 14 + 24) == 0x4d4e) {
                lastEchoReplySeq = skb.getU16(o + 14 + 26);
            }
        }

        void inject(byte[] frame) {
            SkBuff skb = pool.alloc(frame.length);
            if (skb == null) {
                throw new IllegalStateException("the pool is empty before a frame: " + pool.inUse() + " in use");
            }
            skb.setBytes(skb.put(frame.length), frame, 0, frame.length);
            eth0.rxQueue(0).receive(skb);
        }

        /** Runs the softirq, then moves the clock past ARP's retries and reassembly's timeout. */
        void settle() {
            core.run();
            for (long jump : new long[] { 0, 31, 61 }) {
                now += jump * 1_000_000_000L;
                core.run();
                // then ARP's probes, a second apart: what waits for a neighbour is sent or dropped
                for (int i = 0; i < 5; i++) {
                    now += 1_000_000_000L;
                    core.run();
                }
            }
        }

        /** A ping from the peer: the stack must answer it. */
        void assertAnswers() {
            int seq = ++pingSeq & 0xffff;
            byte[] f = new byte[14 + 20 + 8 + 16];
            eth(f, eth0.address(), Eth.ETH_P_IP);
            ip(f, f.length - 14, 1, PEER, LOCAL);
            f[34] = 8; // echo request
            put16(f, 38, 0x4d4e);
            put16(f, 40, seq);
            put16(f, 36, checksum(f, 34, f.length - 34, 0));
            lastEchoReplySeq = -1;
            inject(f);
            settle();
            if (lastEchoReplySeq != seq) {
                throw new AssertionError("the stack no longer answers a ping (seq " + seq + ")");
            }
            assertNoLeak();
        }

        void assertNoLeak() {
            if (pool.inUse() != 0) {
                pool.assertNoLeaks();
                throw new AssertionError(pool.inUse() + " skb(s) in use after the stack settled");
            }
        }

        long dev(DeviceStats.Field f) {
            long n = 0;
            for (NetDevice d : ns.devices()) {
                n += d.stats().get(f);
            }
            return n;
        }

        Map<String, Long> mib() {
            Map<String, Long> m = new java.util.HashMap<>(ipv4.counters(ns));
            m.putAll(udp.counters(ns));
            // martian drops show where Linux shows them: /proc/net/stat/rt_cache, read as a user would
            java.util.List<String> rt = ipv4.read(ns);
            String[] names = rt.get(0).trim().split("\\s+");
            String[] values = rt.get(1).trim().split("\\s+");
            for (int i = 0; i < names.length; i++) {
                if (names[i].startsWith("in_martian")) {
                    m.put(names[i], Long.parseLong(values[i], 16));
                }
            }
            return m;
        }
    }

    public static void fuzzerInitialize() {
        stack = new Stack();
    }

    public static void fuzzerTearDown() {
        if (stack != null) {
            stack.settle();
            stack.assertNoLeak();
            stack.assertAnswers();
            System.err.println("modnet-fuzz: frames: " + inputs + " inputs, " + frames + " frames");
        }
    }

    /** Frames fed so far (for the report). */
    public static long frames() {
        return frames;
    }

    public static void fuzzerTestOneInput(byte[] data) {
        if (stack == null) {
            fuzzerInitialize();
        }
        Stack s = stack;
        Map<DeviceStats.Field, Long> dev0 = devSnapshot(s);
        Map<DeviceStats.Field, Long> eth0 = ethSnapshot(s);
        Map<String, Long> mib0 = s.mib();
        java.util.List<byte[]> parsed = new java.util.ArrayList<>();
        int[] controls = new int[MAX_FRAMES];
        int p = 0;
        while (p + 3 <= data.length && parsed.size() < MAX_FRAMES) {
            int ctl = data[p] & 0xff;
            int len = ((data[p + 1] & 0xff) << 8 | (data[p + 2] & 0xff)) % 1600;
            p += 3;
            byte[] f = new byte[len];
            int take = Math.min(len, data.length - p);
            System.arraycopy(data, p, f, 0, take);
            p += take;
            controls[parsed.size()] = ctl;
            parsed.add(f);
        }
        // the frames as given, then ROUNDS - 1 variants of each with one byte changed (chosen by the input's
        // hash, so an input always means the same frames): more frames per execution, and repeats
        // (duplicate fragments, ARP after ARP) that a single copy never makes
        java.util.SplittableRandom r = new java.util.SplittableRandom(java.util.Arrays.hashCode(data));
        int n = 0;
        int arpFrames = 0;
        for (int round = 0; round < ROUNDS; round++) {
            for (int i = 0; i < parsed.size(); i++) {
                byte[] f = parsed.get(i).clone();
                if (round > 0 && f.length > 0) {
                    f[r.nextInt(f.length)] = (byte) r.nextInt(256);
                }
                shape(f, controls[i], s.eth0.address());
                if (f.length >= 14 && f.length <= 1518 && get16(f, 12) == Eth.ETH_P_ARP) {
                    arpFrames++;
                }
                s.inject(f);
                n++;
            }
        }
        s.core.run();
        frames += n;
        inputs++;
        check(s, n, arpFrames, dev0, eth0, mib0);
        if ((inputs & 63) == 0) {
            s.settle(); // timers: what waits for ARP or reassembly is sent or dropped, and every buffer is back
            s.assertNoLeak();
        }
        if ((inputs & 1023) == 0) {
            s.assertAnswers();
        }
    }

    /** What the control byte asks for: 1 our MAC, 2 IPv4, 4 ARP, 8 to and from our subnet, 16 IP checksum, 32 transport checksum. */
    static void shape(byte[] f, int ctl, MacAddress ours) {
        if (f.length < 14) {
            return;
        }
        if ((ctl & 1) != 0) {
            long b = ours.bits();
            for (int i = 0; i < 6; i++) {
                f[i] = (byte) (b >>> (40 - 8 * i));
            }
        }
        if ((ctl & 2) != 0) {
            put16(f, 12, Eth.ETH_P_IP);
        } else if ((ctl & 4) != 0) {
            put16(f, 12, Eth.ETH_P_ARP);
        }
        if (get16(f, 12) != Eth.ETH_P_IP || f.length < 34) {
            return;
        }
        if ((ctl & 8) != 0) {
            put32(f, 26, PEER);
            put32(f, 30, LOCAL);
        }
        int ihl = (f[14] & 0x0f) * 4;
        if ((ctl & 16) != 0 && ihl >= 20 && 14 + ihl <= f.length) {
            put16(f, 24, 0);
            put16(f, 24, checksum(f, 14, ihl, 0));
        }
        int tot = get16(f, 16);
        if ((ctl & 32) != 0 && ihl >= 20 && 14 + tot <= f.length && tot > ihl) {
            int l4 = 14 + ihl;
            int len = tot - ihl;
            int proto = f[23] & 0xff;
            if (proto == 1 && len >= 4) {
                put16(f, l4 + 2, 0);
                put16(f, l4 + 2, checksum(f, l4, len, 0));
            } else if (proto == 17 && len >= 8) {
                put16(f, l4 + 4, len);
                put16(f, l4 + 6, 0);
                int pseudo = sum(f, 26, 8, 0) + 17 + len;
                int c = checksum(f, l4, len, pseudo);
                put16(f, l4 + 6, c == 0 ? 0xffff : c);
            }
            if (ihl == 20 || (ctl & 16) == 0) {
                return;
            }
            put16(f, 24, 0);
            put16(f, 24, checksum(f, 14, ihl, 0));
        }
    }

    private static Map<DeviceStats.Field, Long> devSnapshot(Stack s) {
        Map<DeviceStats.Field, Long> m = new EnumMap<>(DeviceStats.Field.class);
        for (DeviceStats.Field f : DeviceStats.Field.values()) {
            m.put(f, s.dev(f));
        }
        return m;
    }

    private static Map<DeviceStats.Field, Long> ethSnapshot(Stack s) {
        Map<DeviceStats.Field, Long> m = new EnumMap<>(DeviceStats.Field.class);
        for (DeviceStats.Field f : DeviceStats.Field.values()) {
            m.put(f, s.eth0.stats().get(f));
        }
        return m;
    }

    /**
     * Every frame on exactly one counter. eth0: off the wire, a frame is received (rx_packets), too long
     * or too short (rx_length_errors), or found no descriptor (rx_missed_errors). Received, on any device
     * (lo carries what the stack sent itself): no handler or handler gone (rx_dropped), for another host
     * (rx_otherhost_dropped), ARP (processed there), or IPv4 (IpInReceives). IPv4: a header, address,
     * truncation, discard, route or protocol error, delivered, forwarded, or a fragment (ReasmReqds; the
     * reassembled datagram's ReasmOKs is then delivered or dropped again, so it is taken off). Delivered:
     * ICMP (IcmpInMsgs) or UDP (no port, an error, a broadcast nobody wants, or queued to a socket).
     */
    static void check(Stack s, int n, int arp, Map<DeviceStats.Field, Long> dev0, Map<DeviceStats.Field, Long> eth0,
            Map<String, Long> mib0) {
        Map<DeviceStats.Field, Long> dev1 = devSnapshot(s);
        Map<DeviceStats.Field, Long> eth1 = ethSnapshot(s);
        Map<String, Long> mib1 = s.mib();
        long wire = d(eth1, eth0, DeviceStats.Field.RX_PACKETS) + d(eth1, eth0, DeviceStats.Field.RX_LENGTH_ERRORS)
                + d(eth1, eth0, DeviceStats.Field.RX_MISSED_ERRORS);
        StringBuilder why = new StringBuilder();
        if (wire != n) {
            why.append("eth0 took ").append(n).append(" frame(s) off the wire but counted ").append(wire).append('\n');
        }
        long received = d(dev1, dev0, DeviceStats.Field.RX_PACKETS);
        long handled = d(dev1, dev0, DeviceStats.Field.RX_DROPPED) + otherhost(dev1, dev0) + arp + m(mib1, mib0, "IpInReceives");
        if (received != handled) {
            why.append("received ").append(received).append(" but dropped/handled ").append(handled).append(" (arp ").append(arp)
                    .append(")\n");
        }
        long ip = m(mib1, mib0, "IpInReceives");
        long ipOut = m(mib1, mib0, "IpInHdrErrors") + m(mib1, mib0, "IpInAddrErrors") + m(mib1, mib0, "IpExtInTruncatedPkts")
                + m(mib1, mib0, "IpInDiscards") + m(mib1, mib0, "IpExtInNoRoutes") + m(mib1, mib0, "IpInUnknownProtos")
                + m(mib1, mib0, "IpInDelivers") + m(mib1, mib0, "IpForwDatagrams") + m(mib1, mib0, "IpReasmReqds")
                - m(mib1, mib0, "IpReasmOKs") + m(mib1, mib0, "in_martian_src") + m(mib1, mib0, "in_martian_dst");
        if (ip != ipOut) {
            why.append("IpInReceives ").append(ip).append(" but IP's ends add up to ").append(ipOut).append('\n');
        }
        long delivered = m(mib1, mib0, "IpInDelivers");
        long transport = m(mib1, mib0, "IcmpInMsgs") + m(mib1, mib0, "UdpNoPorts") + m(mib1, mib0, "UdpInErrors")
                + m(mib1, mib0, "UdpIgnoredMulti") + m(mib1, mib0, "UdpInDatagrams");
        if (delivered != transport) {
            why.append("IpInDelivers ").append(delivered).append(" but the transports counted ").append(transport).append('\n');
        }
        if (!why.isEmpty()) {
            throw new AssertionError(why + "device " + diff(dev1, dev0) + "\nmib " + diffMib(mib1, mib0));
        }
    }

    private static long otherhost(Map<DeviceStats.Field, Long> a, Map<DeviceStats.Field, Long> b) {
        return d(a, b, DeviceStats.Field.RX_OTHERHOST_DROPPED);
    }

    private static long d(Map<DeviceStats.Field, Long> a, Map<DeviceStats.Field, Long> b, DeviceStats.Field f) {
        return a.get(f) - b.get(f);
    }

    private static long m(Map<String, Long> a, Map<String, Long> b, String k) {
        return a.getOrDefault(k, 0L) - b.getOrDefault(k, 0L);
    }

    private static String diff(Map<DeviceStats.Field, Long> a, Map<DeviceStats.Field, Long> b) {
        StringBuilder sb = new StringBuilder();
        a.forEach((k, v) -> {
            if (v - b.get(k) != 0) {
                sb.append(k).append('+').append(v - b.get(k)).append(' ');
            }
        });
        return sb.toString();
    }

    private static String diffMib(Map<String, Long> a, Map<String, Long> b) {
        StringBuilder sb = new StringBuilder();
        new java.util.TreeMap<>(a).forEach((k, v) -> {
            if (v - b.getOrDefault(k, 0L) != 0) {
                sb.append(k).append('+').append(v - b.getOrDefault(k, 0L)).append(' ');
            }
        });
        return sb.toString();
    }

    static void eth(byte[] f, MacAddress dst, int type) {
        long b = dst.bits();
        for (int i = 0; i < 6; i++) {
            f[i] = (byte) (b >>> (40 - 8 * i));
        }
        long src = PEER_MAC.bits();
        for (int i = 0; i < 6; i++) {
            f[6 + i] = (byte) (src >>> (40 - 8 * i));
        }
        put16(f, 12, type);
    }

    static void ip(byte[] f, int totLen, int proto, int saddr, int daddr) {
        f[14] = 0x45;
        put16(f, 16, totLen);
        f[22] = 64;
        f[23] = (byte) proto;
        put32(f, 26, saddr);
        put32(f, 30, daddr);
        put16(f, 24, checksum(f, 14, 20, 0));
    }

    static int sum(byte[] b, int off, int len, int initial) {
        long s = initial;
        int i = 0;
        for (; i + 1 < len; i += 2) {
            s += ((b[off + i] & 0xff) << 8) | (b[off + i + 1] & 0xff);
        }
        if (i < len) {
            s += (b[off + i] & 0xff) << 8;
        }
        while ((s >>> 16) != 0) {
            s = (s & 0xffff) + (s >>> 16);
        }
        return (int) s;
    }

    static int checksum(byte[] b, int off, int len, int initial) {
        return ~sum(b, off, len, initial) & 0xffff;
    }

    static int get16(byte[] b, int o) {
        return (b[o] & 0xff) << 8 | (b[o + 1] & 0xff);
    }

    static void put16(byte[] b, int o, int v) {
        b[o] = (byte) (v >>> 8);
        b[o + 1] = (byte) v;
    }

    static void put32(byte[] b, int o, int v) {
        put16(b, o, v >>> 16);
        put16(b, o + 2, v);
    }
}
