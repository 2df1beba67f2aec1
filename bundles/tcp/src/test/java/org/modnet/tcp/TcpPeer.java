package org.modnet.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.modnet.socket.api.SocketCalls.AF_INET;
import static org.modnet.socket.api.SocketCalls.SOCK_NONBLOCK;
import static org.modnet.socket.api.SocketCalls.SOCK_STREAM;

import java.net.InetAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
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
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SocketCalls;

/**
 * A scripted peer on a wire, packetdrill's way: the stack (10.0.0.2 on d0, virtual clock) talks to a
 * peer at 10.0.0.1 that is only this class. {@link #in} injects a segment the test writes field by
 * field; {@link #out()} hands over the next segment the stack sent, parsed, for exact assertions.
 * Sequence numbers are absolute: the peer's start at {@link #PEER_ISS}, the stack's are learned from
 * its SYN or SYN-ACK ({@link #iss}).
 */
final class TcpPeer implements AutoCloseable {
    static final int PEER = 0x0a000001;
    static final int LOCAL = 0x0a000002;
    static final int PEER_PORT = 40000;
    static final int PEER_ISS = 1000;
    private static final MacAddress PEER_MAC = MacAddress.parse("02:00:00:00:00:01");

    /** One segment the stack sent, its options decoded ({@code -1}: absent). */
    record Seg(long ms, int flags, int seq, int ack, int win, int len, int mss, int ws, boolean sackPerm, long tsval,
            long tsecr, int[] sack, int tos) {
        boolean has(int f) {
            return (flags & f) == f;
        }

        @Override
        public String toString() {
            return String.format("@%d flags=%02x seq=%d ack=%d win=%d len=%d mss=%d ws=%d sackOK=%b ts=%d/%d sack=%s", ms,
                    flags, seq, ack, win, len, mss, ws, sackPerm, tsval, tsecr, Arrays.toString(sack));
        }
    }

    final TcpStack s = new TcpStack();
    final SocketCalls sys = s.process();
    final NetDevice d0;
    private final ArrayDeque<Seg> sent = new ArrayDeque<>();
    /** The stack's initial sequence number, once its SYN or SYN-ACK was seen. */
    int iss;
    /** The TOS byte of the peer's segments ({@link #in}), its low bits the ECN field. */
    int inTos;

    TcpPeer() throws Exception {
        this(DeviceSetup.ether("d0", "test"));
    }

    /** With d0 made as {@code setup} says (its features, say), named d0. */
    TcpPeer(DeviceSetup setup) throws Exception {
        d0 = s.ns.register(setup, (skb, d) -> {
            record(skb);
            skb.free();
            return TxResult.OK;
        });
        d0.addAddress(new IfAddress(InetAddress.getByName("10.0.0.2"), 24, InetAddress.getByName("10.0.0.255"), "global",
                "d0"));
        d0.open();
        s.arp.add(d0, PEER, PEER_MAC, NudState.PERMANENT, false);
    }

    private void record(SkBuff f) {
        int h = f.data() + 14;
        if (f.getU16(f.data() + 12) != Eth.ETH_P_IP || f.getU8(h + 9) != 6) {
            return;
        }
        int th = h + (f.getU8(h) & 0xf) * 4;
        int total = f.getU16(h + 2);
        int hlen = (f.getU8(th + 12) >>> 4) * 4;
        int mss = -1;
        int ws = -1;
        boolean sackPerm = false;
        long tsval = -1;
        long tsecr = -1;
        int[] sack = new int[0];
        for (int p = th + 20; p < th + hlen;) {
            int kind = f.getU8(p);
            if (kind == TcpOptions.EOL) {
                break;
            }
            if (kind == TcpOptions.NOP) {
                p++;
                continue;
            }
            int len = f.getU8(p + 1);
            switch (kind) {
                case TcpOptions.MSS -> mss = f.getU16(p + 2);
                case TcpOptions.WINDOW -> ws = f.getU8(p + 2);
                case TcpOptions.SACK_PERM -> sackPerm = true;
                case TcpOptions.TIMESTAMP -> {
                    tsval = f.getU32(p + 2) & 0xffffffffL;
                    tsecr = f.getU32(p + 6) & 0xffffffffL;
                }
                case TcpOptions.SACK -> {
                    sack = new int[(len - 2) / 4];
                    for (int i = 0; i < sack.length; i++) {
                        sack[i] = f.getU32(p + 2 + 4 * i);
                    }
                }
                default -> {
                }
            }
            p += Math.max(len, 2);
        }
        int flags = f.getU8(th + 13);
        int seq = f.getU32(th + 4);
        if ((flags & TcpHeader.SYN) != 0) {
            iss = seq;
        }
        sent.add(new Seg(s.clock.get() / 1_000_000L, flags, seq, f.getU32(th + 8), f.getU16(th + 14), total - (th - h) - hlen,
                mss, ws, sackPerm, tsval, tsecr, sack, f.getU8(h + 1)));
    }

    /** The next segment the stack sent. */
    Seg out() {
        assertTrue(!sent.isEmpty(), "a segment was sent");
        return sent.poll();
    }

    /** Asserts the stack sent nothing since the last {@link #out()}. */
    void none() {
        assertTrue(sent.isEmpty(), () -> "nothing sent, but: " + sent);
    }

    /** Every segment sent since the last call. */
    List<Seg> drain() {
        List<Seg> all = new ArrayList<>(sent);
        sent.clear();
        return all;
    }

    /** A segment from the peer to {@code port}, with {@code options} (whole words) and {@code payload} bytes. */
    void in(int port, int flags, int seq, int ack, int win, byte[] options, int payload) {
        in(PEER_PORT, port, flags, seq, ack, win, options, payload);
    }

    /** As {@link #in(int, int, int, int, int, byte[], int)}, with the payload's bytes given. */
    void in(int port, int flags, int seq, int ack, int win, byte[] options, byte[] data) {
        in(PEER_PORT, port, flags, seq, ack, win, options, data.length, data);
    }

    /** As {@link #in(int, int, int, int, int, byte[], int)}, from the peer's port {@code sport}. */
    void in(int sport, int port, int flags, int seq, int ack, int win, byte[] options, int payload) {
        in(sport, port, flags, seq, ack, win, options, payload, null);
    }

    private void in(int sport, int port, int flags, int seq, int ack, int win, byte[] options, int payload, byte[] data) {
        assertTrue(d0.rxQueue(0).receive(segment(sport, port, flags, seq, ack, win, options, payload, data)));
        s.run();
    }

    /** The frame {@link #in(int, int, int, int, int, byte[], int)} would inject, not yet given to d0. */
    SkBuff segment(int port, int flags, int seq, int ack, int win, byte[] options, int payload) {
        return segment(PEER_PORT, port, flags, seq, ack, win, options, payload, null);
    }

    private SkBuff segment(int sport, int port, int flags, int seq, int ack, int win, byte[] options, int payload, byte[] data) {
        if (options.length % 4 != 0) {
            throw new IllegalArgumentException("options must fill whole words: " + options.length);
        }
        int tcpLen = 20 + options.length + payload;
        SkBuff skb = s.stack.core().allocSkb(14 + 20 + tcpLen, 64);
        int o = skb.put(14 + 20 + tcpLen);
        skb.setBytes(o, new byte[14 + 20 + tcpLen], 0, 14 + 20 + tcpLen);
        long mac = d0.address().bits();
        skb.setU16(o, (int) (mac >>> 32));
        skb.setU32(o + 2, (int) mac);
        skb.setU16(o + 6, (int) (PEER_MAC.bits() >>> 32));
        skb.setU32(o + 8, (int) PEER_MAC.bits());
        skb.setU16(o + 12, Eth.ETH_P_IP);
        int h = o + 14;
        skb.setU8(h, 0x45);
        skb.setU8(h + 1, inTos);
        skb.setU16(h + 2, 20 + tcpLen);
        skb.setU8(h + 8, 64);
        skb.setU8(h + 9, 6);
        skb.setU32(h + 12, PEER);
        skb.setU32(h + 16, LOCAL);
        skb.setU16(h + 10, InetChecksum.checksum(skb, h, 20));
        int th = h + 20;
        TcpHeader.write(skb, th, sport, port, seq, ack, flags, win, options.length);
        skb.setBytes(th + 20, options, 0, options.length);
        for (int i = 0; i < payload; i++) {
            skb.setU8(th + 20 + options.length + i, data != null ? data[i] : 'a' + i % 26);
        }
        TcpHeader.setChecksum(skb, th, tcpLen, TcpAf.inetPseudoSum(PEER, LOCAL, tcpLen));
        return skb;
    }

    /** A listener on {@code port}; returns its fd. */
    int listen(int port) {
        int l = sys.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assertEquals(0, sys.bind(l, new SockAddr(LOCAL, port)));
        assertEquals(0, sys.listen(l, 8));
        return l;
    }

    /**
     * The peer opens a connection to the listener {@code l} on {@code port} with {@code synOptions}; the
     * stack's SYN-ACK is returned through {@code synAck} and the third segment carries {@code ackOptions}.
     * Returns the accepted fd.
     */
    int accept(int l, int port, byte[] synOptions, byte[] ackOptions, Seg[] synAck) {
        in(port, TcpHeader.SYN, PEER_ISS, 0, 65535, synOptions, 0);
        Seg sa = out();
        assertEquals(TcpHeader.SYN | TcpHeader.ACK, sa.flags());
        if (synAck != null) {
            synAck[0] = sa;
        }
        in(port, TcpHeader.ACK, PEER_ISS + 1, iss + 1, 65535, ackOptions, 0);
        int fd = sys.accept(l, null, SOCK_NONBLOCK);
        assertTrue(fd >= 3, "accept: " + SocketCalls.strerror(fd));
        none();
        return fd;
    }

    /** The peer's options as Linux sends them: NOP NOP TS. */
    static byte[] ts(int val, int ecr) {
        return Segments.opts(Segments.nop(), Segments.nop(), Segments.ts(val, ecr));
    }

    /** NOP NOP TS, NOP NOP SACK blocks. */
    static byte[] tsSack(int val, int ecr, int... edges) {
        return Segments.opts(ts(val, ecr), Segments.nop(), Segments.nop(), Segments.sack(edges));
    }

    long count(TcpMib.Ext c) {
        return s.count(c);
    }

    long count(TcpMib.Tcp c) {
        return s.count(c);
    }

    @Override
    public void close() {
        sys.close();
        s.close();
    }
}
