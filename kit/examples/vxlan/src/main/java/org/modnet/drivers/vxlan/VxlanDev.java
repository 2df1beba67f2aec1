package org.modnet.drivers.vxlan;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.Set;

import org.modnet.api.net.DeviceStats;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetDeviceOps;
import org.modnet.api.net.TxResult;
import org.modnet.api.skb.SkBuff;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SocketCalls;

/**
 * One VXLAN device: transmit wraps the frame ({@code vxlan_xmit}), a receiver thread unwraps what its UDP
 * socket gets ({@code vxlan_rcv}). Both reuse one buffer each; nothing is allocated per frame.
 *
 * <p>The header (RFC 7348 5): flags (the I bit, 0x08, says the VNI is valid), 24 reserved bits, the
 * 24-bit VNI, 8 reserved bits.
 */
final class VxlanDev implements NetDeviceOps {
    static final int HEADER = 8;
    static final int FLAG_I = 0x08;
    private static final int MAX_FRAME = 65536;

    private final VxlanConfig cfg;
    private final SocketCalls calls;
    private final int fd;
    private final Set<VxlanDev> registry;
    private final SockAddr remote;
    /** The transmit buffer, under this device's transmit lock ({@code HARD_TX_LOCK}). */
    private final byte[] txBytes = new byte[HEADER + MAX_FRAME];
    private final ByteBuffer tx = ByteBuffer.wrap(txBytes);
    /** The receive buffer: a segment the receive queue copies the inner frame out of. */
    private final Arena arena = Arena.ofShared();
    private final MemorySegment rxSeg = arena.allocate(HEADER + MAX_FRAME);
    private final ByteBuffer rx = rxSeg.asByteBuffer();
    private volatile NetDevice dev;
    private volatile boolean closed;
    private Thread receiver;
    /** Datagrams with the I flag clear or another VNI ({@code vxlan_rcv}'s drops). */
    private volatile long badHeader;

    VxlanDev(VxlanConfig cfg, SocketCalls calls, int fd, Set<VxlanDev> registry) {
        this.cfg = cfg;
        this.calls = calls;
        this.fd = fd;
        this.registry = registry;
        this.remote = new SockAddr(cfg.remote(), cfg.dstport());
    }

    void start(NetDevice d) {
        this.dev = d;
        receiver = Thread.ofVirtual().name("vxlan-rx " + d.name()).start(this::receiveLoop);
    }

    /**
     * {@code vxlan_xmit}: the frame behind a VXLAN header, to the remote end's {@code dstport}. No remote
     * (no forwarding entry) or an error from the socket is tx_dropped; a frame too big is tx_errors.
     */
    @Override
    public TxResult startXmit(SkBuff skb, NetDevice self) {
        DeviceStats stats = self.stats();
        int len = skb.len();
        if (cfg.remote() == 0) {
            stats.addShared(DeviceStats.Field.TX_DROPPED, 1);
            skb.free();
            return TxResult.OK;
        }
        if (len > MAX_FRAME || (skb.dataLen() > 0 && !skb.linearize())) {
            stats.addShared(DeviceStats.Field.TX_ERRORS, 1);
            skb.free();
            return TxResult.OK;
        }
        int r;
        synchronized (this) {
            tx.clear();
            tx.put(0, (byte) FLAG_I).put(1, (byte) 0).put(2, (byte) 0).put(3, (byte) 0);
            tx.putInt(4, cfg.vni() << 8);
            skb.getBytes(skb.data(), txBytes, HEADER, len);
            skb.free();
            tx.limit(HEADER + len);
            r = calls.sendto(fd, tx, SocketCalls.MSG_DONTWAIT, remote);
        }
        if (r < 0) {
            stats.addShared(DeviceStats.Field.TX_DROPPED, 1);
        } else {
            stats.addShared(DeviceStats.Field.TX_PACKETS, 1);
            stats.addShared(DeviceStats.Field.TX_BYTES, len);
        }
        return TxResult.OK;
    }

    /**
     * {@code vxlan_rcv}: a datagram shorter than a header and an Ethernet header is rx_length_errors;
     * one without the I flag or for another VNI is rx_dropped (and counted in {@code ethtool -S} as
     * bad_header); the inner frame goes to the device's receive queue, which counts it.
     */
    private void receiveLoop() {
        SockAddr[] from = new SockAddr[1];
        while (!closed) {
            rx.clear();
            int n = calls.recvfrom(fd, rx, 0, from);
            NetDevice d = dev;
            if (n < 0 || d == null) {
                if (closed) {
                    return;
                }
                continue;
            }
            if (n < HEADER + 14) {
                d.stats().addShared(DeviceStats.Field.RX_LENGTH_ERRORS, 1);
                d.stats().addShared(DeviceStats.Field.RX_ERRORS, 1);
                continue;
            }
            int flags = rx.get(0) & 0xff;
            int vni = rx.getInt(4) >>> 8;
            if ((flags & FLAG_I) == 0 || vni != cfg.vni()) {
                badHeader++;
                d.stats().addShared(DeviceStats.Field.RX_DROPPED, 1);
                continue;
            }
            if (!d.isUp()) {
                d.stats().addShared(DeviceStats.Field.RX_DROPPED, 1);
                continue;
            }
            d.rxQueue(0).receiveFrame(rxSeg, HEADER, n - HEADER);
        }
    }

    @Override
    public Map<String, Long> ethtoolStats(NetDevice self) {
        return Map.of("bad_header", badHeader);
    }

    @Override
    public Map<String, String> driverInfo(NetDevice self) {
        return Map.of("driver", "vxlan", "version", "0.1.0", "bus-info", "");
    }

    @Override
    public boolean deletable(NetDevice self) {
        return true;
    }

    /** The device is gone: its socket closes, which ends the receiver. */
    @Override
    public void uninit(NetDevice self) {
        registry.remove(this);
        closed = true;
        calls.shutdown(fd, 2); // SHUT_RDWR wakes the receiver
        calls.close();
        Thread t = receiver;
        if (t != null) {
            try {
                t.join(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (t == null || !t.isAlive()) {
            arena.close();
        }
    }

    void unregister() {
        NetDevice d = dev;
        if (d != null) {
            d.namespace().unregister(d);
        }
    }
}
