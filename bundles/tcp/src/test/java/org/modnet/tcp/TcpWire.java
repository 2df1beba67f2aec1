package org.modnet.tcp;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

import org.modnet.api.inet.InetChecksum;
import org.modnet.api.inet.NudState;
import org.modnet.api.net.DeviceSetup;
import org.modnet.api.net.Eth;
import org.modnet.api.net.IfAddress;
import org.modnet.api.net.MacAddress;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.TxResult;
import org.modnet.api.skb.SkBuff;

/**
 * A peer the test plays, segment by segment, on a device of a {@link TcpStack}: the stack's side is
 * 10.0.0.2 on d0, the peer 10.0.0.1 and any other 10.0.0.x the test names (spoofed sources). What the
 * stack sends is kept, parsed, in {@link #out}.
 */
final class TcpWire {
    static final int PEER = 0x0a000001; // 10.0.0.1
    static final int LOCAL = 0x0a000002; // 10.0.0.2
    static final MacAddress PEER_MAC = MacAddress.parse("02:00:00:00:00:01");

    /** A segment the stack sent: its addresses, header fields and the options that matter here. */
    record Seg(int saddr, int daddr, int sport, int dport, int seq, int ack, int flags, int window, int len, int mss, int wscale,
            boolean sackOk, boolean ts, int tsval, int tsecr, int tos) {
        boolean is(int f) {
            return flags == f;
        }

        @Override
        public String toString() {
            return String.format("%s:%d>%s:%d flags=%02x seq=%d ack=%d win=%d len=%d mss=%d ws=%d sack=%b ts=%b %d/%d", hex(saddr),
                    sport, hex(daddr), dport, flags, Integer.toUnsignedLong(seq), Integer.toUnsignedLong(ack), window, len, mss,
                    wscale, sackOk, ts, Integer.toUnsignedLong(tsval), Integer.toUnsignedLong(tsecr));
        }

        private static String hex(int a) {
            return (a >>> 24) + "." + (a >>> 16 & 255) + "." + (a >>> 8 & 255) + "." + (a & 255);
        }
    }

    final TcpStack s;
    final NetDevice d0;
    final List<Seg> out = new ArrayList<>();

    TcpWire(TcpStack s) throws Exception {
        this.s = s;
        d0 = s.ns.register(DeviceSetup.ether("d0", "test"), (skb, d) -> {
            capture(skb);
            skb.free();
            return TxResult.OK;
        });
        d0.addAddress(new IfAddress(InetAddress.getByName("10.0.0.2"), 24, InetAddress.getByName("10.0.0.255"), "global", "d0"));
        d0.open();
        s.arp.add(d0, PEER, PEER_MAC, NudState.PERMANENT, false);
    }

    /** Makes 10.0.0.x (a spoofed source) reachable, so replies to it leave and are seen. */
    void neighbour(int addr) {
        try {
            s.arp.add(d0, addr, PEER_MAC, NudState.PERMANENT, false);
        } catch (org.modnet.api.net.NetException e) {
            throw new AssertionError(e);
        }
    }

    private void capture(SkBuff f) {
        int ip = f.data() + 14;
        if (f.getU16(f.data() + 12) != Eth.ETH_P_IP || f.getU8(ip + 9) != 6) {
            return;
        }
        int th = ip + (f.getU8(ip) & 0xf) * 4;
        int total = f.getU16(ip + 2);
        int hlen = (f.getU8(th + 12) >>> 4) * 4;
        int mss = -1;
        int ws = -1;
        boolean sack = false;
        boolean ts = false;
        int tsval = 0;
        int tsecr = 0;
        int p = th + 20;
        while (p < th + hlen) {
            int kind = f.getU8(p);
            if (kind == 0) {
                break;
            }
            if (kind == 1) {
                p++;
                continue;
            }
            int len = f.getU8(p + 1);
            switch (kind) {
                case 2 -> mss = f.getU16(p + 2);
                case 3 -> ws = f.getU8(p + 2);
                case 4 -> sack = true;
                case 8 -> {
                    ts = true;
                    tsval = f.getU32(p + 2);
                    tsecr = f.getU32(p + 6);
                }
                default -> {
                }
            }
            p += Math.max(len, 2);
        }
        out.add(new Seg(f.getU32(ip + 12), f.getU32(ip + 16), f.getU16(th), f.getU16(th + 2), f.getU32(th + 4), f.getU32(th + 8),
                f.getU8(th + 13), f.getU16(th + 14), total - (th - ip) - hlen, mss, ws, sack, ts, tsval, tsecr, f.getU8(ip + 1)));
    }

    /** The segments sent since the last call, taken. */
    List<Seg> take() {
        List<Seg> l = new ArrayList<>(out);
        out.clear();
        return l;
    }

    /** The one segment sent since the last call. */
    Seg one() {
        List<Seg> l = take();
        if (l.size() != 1) {
            throw new AssertionError("expected one segment, got " + l);
        }
        return l.get(0);
    }

    /** A segment from saddr:sport to 10.0.0.2:dport, processed at once. */
    void send(int saddr, int sport, int dport, int flags, int seq, int ack, int window, byte[] options, int payload) {
        inject(saddr, sport, dport, flags, seq, ack, window, options, payload);
        s.run();
    }

    /** As {@link #send} but left in the device's queue until the next run. */
    void inject(int saddr, int sport, int dport, int flags, int seq, int ack, int window, byte[] options, int payload) {
        SkBuff skb = frame(s, d0.address(), PEER_MAC, saddr, LOCAL, sport, dport, flags, seq, ack, window, options, payload);
        if (!d0.rxQueue(0).receive(skb)) {
            skb.free();
        }
    }

    /** An Ethernet frame from srcMac to dstMac carrying a TCP segment saddr:sport to daddr:dport. */
    static SkBuff frame(TcpStack s, MacAddress dstMac, MacAddress srcMac, int saddr, int daddr, int sport, int dport, int flags,
            int seq, int ack, int window, byte[] options, int payload) {
        byte[] opts = Segments.padded(options);
        int tcpLen = 20 + opts.length + payload;
        SkBuff skb = s.stack.core().allocSkb(14 + 20 + tcpLen, 64);
        if (skb == null) {
            throw new AssertionError("no skb");
        }
        int o = skb.put(14 + 20 + tcpLen);
        skb.setBytes(o, new byte[14 + 20 + tcpLen], 0, 14 + 20 + tcpLen);
        long mac = dstMac.bits();
        skb.setU16(o, (int) (mac >>> 32));
        skb.setU32(o + 2, (int) mac);
        skb.setU16(o + 6, (int) (srcMac.bits() >>> 32));
        skb.setU32(o + 8, (int) srcMac.bits());
        skb.setU16(o + 12, Eth.ETH_P_IP);
        int h = o + 14;
        skb.setU8(h, 0x45);
        skb.setU16(h + 2, 20 + tcpLen);
        skb.setU8(h + 8, 64);
        skb.setU8(h + 9, 6);
        skb.setU32(h + 12, saddr);
        skb.setU32(h + 16, daddr);
        skb.setU16(h + 10, InetChecksum.checksum(skb, h, 20));
        int th = h + 20;
        TcpHeader.write(skb, th, sport, dport, seq, ack, flags, window, opts.length);
        skb.setBytes(th + 20, opts, 0, opts.length);
        for (int i = 0; i < payload; i++) {
            skb.setU8(th + 20 + opts.length + i, 'a' + i % 26);
        }
        TcpHeader.setChecksum(skb, th, tcpLen, TcpAf.inetPseudoSum(saddr, daddr, tcpLen));
        return skb;
    }
}
